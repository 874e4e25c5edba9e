package psi.manager.embedded.internal;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * systemd's rate limit of an interval and a burst (a unit's start limit, a
 * socket's trigger limit): at most {@code burst} events within any
 * {@code interval}; 0 for either means no limit.
 */
final class RateLimit {

	private final Deque<Long> events = new ArrayDeque<>();

	/**
	 * Counts an event if the limit allows it.
	 *
	 * @param intervalUs the interval, µs
	 * @param burst the events allowed in it
	 * @return whether it was allowed (and counted)
	 */
	synchronized boolean allow(long intervalUs, int burst) {
		if (intervalUs == 0 || burst == 0) {
			return true;
		}
		long now = System.nanoTime() / 1000;
		while (!events.isEmpty() && now - events.peekFirst() > intervalUs) {
			events.removeFirst();
		}
		if (events.size() >= burst) {
			return false;
		}
		events.addLast(now);
		return true;
	}
}
