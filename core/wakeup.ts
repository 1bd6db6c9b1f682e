/**
 * @module The wake-up slot shared by the event bus and the sink runners: one consumer fiber parks
 * until a producer says there is something to do.
 */
import { Effect } from "effect";

/**
 * One parked waiter at most. `notify()` is called on every push: it allocates nothing and is a
 * no-op when nobody waits. Build the `wait` effect once and reuse it.
 */
export class Wakeup {
	#wake: (() => void) | undefined;

	/** Resume the parked waiter, if any (it is woken once; a later wait parks again). */
	notify(): void {
		const wake = this.#wake;
		if (wake) {
			this.#wake = undefined;
			wake();
		}
	}

	/** Completes at once if `ready()`, else at the next `notify()`; interruption unparks it. */
	wait(ready: () => boolean): Effect.Effect<void> {
		return Effect.callback<void>((resume) => {
			if (ready()) {
				resume(Effect.void);
				return;
			}
			this.#wake = () => resume(Effect.void);
			return Effect.sync(() => {
				this.#wake = undefined;
			});
		});
	}
}
