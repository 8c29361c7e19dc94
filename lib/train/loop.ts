/**
 * The training loop, top to bottom: reset, act, step, store, update, log. It drives a
 * {@linkcode TrainingSession}; everything else (building the parts, files, checkpoints,
 * resume, signals, progress) is behind that session. Used by `deno task train` and by the
 * browser page alike.
 *
 * @module
 */
import { selectActions } from "../agent/policy.ts";
import type { Action } from "../env/parallel_env.ts";
import { actionNoiseAt, epsilonAt, randomActions } from "./exploration.ts";
import type { TrainingSession } from "./session.ts";

/** Trains `session` from its first episode to `config.episodes`. */
export async function trainingLoop(session: TrainingSession): Promise<void> {
  const { config, env, buffer, learner, algorithm, rng, counters } = session;
  const mode = config.actionSelection === "sample" ? "sample" : "greedy";
  for (let number = session.firstEpisode; number <= config.episodes; number++) {
    const episode = session.beginEpisode(number); // reset (or the saved episode, on resume)
    while (!episode.over) {
      // Act: ε-greedy on the joint action. TRAP: the draw order (ε, then the actions) is the
      // notebook's; changing it changes every run.
      let actions: Action[];
      if (rng.nextFloat() < counters.epsilon) {
        actions = randomActions(env.actionSpaces, rng);
      } else {
        await session.collectLosses(episode); // the actors must be current
        const noise = actionNoiseAt(config, counters.totalSteps);
        actions = selectActions(learner.actors, episode.observations, {
          mode,
          rng,
          spaces: env.actionSpaces,
          noise,
        });
      }
      // Step.
      const step = env.step(actions);
      episode.steps++;
      counters.totalSteps++;
      const cut = episode.steps >= config.maxSteps; // the run's own limit truncates too
      const truncations = cut ? step.truncations.map(() => true) : step.truncations;
      // Store.
      buffer.push({
        observations: episode.observations,
        actions,
        rewards: step.rewards,
        nextObservations: step.observations,
        terminations: step.terminations,
        truncations,
      });
      step.observations.forEach((o, i) => episode.observations[i].set(o));
      step.rewards.forEach((r, i) => (episode.returns[i] += r));
      // Update: one batch per round, or one per agent (--batch-per-agent), each with the
      // uniform numbers its update draws on.
      const due = counters.totalSteps % config.updateEvery === 0;
      if (due && buffer.length > config.batchSize && counters.totalSteps > config.warmupSteps) {
        for (let u = 0; u < config.numUpdates; u++) {
          const uniforms = session.batches.map((batch) => {
            buffer.gather(buffer.sampleIndices(config.batchSize, rng, session.indices), batch);
            return algorithm.drawUniforms(config.batchSize, rng);
          });
          learner.submit(session.batches, uniforms);
          counters.updateRounds++;
        }
      }
      counters.epsilon = epsilonAt(config, counters.totalSteps);
      episode.success = step.terminations.every(Boolean);
      episode.over = step.terminations.some(Boolean) || truncations.some(Boolean);
      // Now and then (or on a signal) other work runs, and a signal saves, then stops the run.
      if (!episode.over && session.pauseDue()) await session.stopIfAsked(episode);
    }
    // Log: losses, greedy probe, metrics; the session records them (files, checkpoints).
    await session.endEpisode(episode);
  }
}
