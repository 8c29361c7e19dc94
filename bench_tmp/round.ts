import { initBackend } from "../lib/backend.ts";
import { MADDPGAgentManager } from "../lib/agent/maddpg.ts";
import { ReplayBuffer, allocateBatch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { MultiAgentGridEnv } from "../lib/env/grid_world.ts";
await initBackend();
const rng = new Pcg32(1);
const env = new MultiAgentGridEnv();
const m = new MADDPGAgentManager({numAgents:2, observationDim:6, actionDim:4}, rng);
const buf = new ReplayBuffer({numAgents:2, observationDim:6});
let obs = env.reset();
for (let t=0;t<5000;t++){ const a=[rng.nextInt(4),rng.nextInt(4)]; const s=env.step(a); buf.push(obs,a,s.rewards,s.observations,s.done); obs = s.done? env.reset(): s.observations; }
const batch = allocateBatch(256,2,6);
for (let k=0;k<30;k++){ buf.sample(256,rng,batch); m.update(batch,rng); }
const times=[];
for (let k=0;k<200;k++){ const t=performance.now(); buf.sample(256,rng,batch); m.update(batch,rng); times.push(performance.now()-t); }
times.sort((a,b)=>a-b); console.log("median ms/round", times[100].toFixed(2));
