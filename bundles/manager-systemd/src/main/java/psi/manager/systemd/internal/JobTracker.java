package psi.manager.systemd.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Matches systemd's {@code JobRemoved} signals to the jobs that callers wait
 * for. A caller opens an {@link Expectation} before it asks for the job: the
 * signal may be handled (on dbus-java's signal thread) before the reply
 * carrying the job's path is, and is then kept until the caller claims it.
 * Signals are only kept while someone expects one. Thread safe.
 */
final class JobTracker {

	private final Set<Expectation> open = new HashSet<>();
	/** results of jobs nobody claimed yet, by job path */
	private final Map<String, String> unclaimed = new HashMap<>();

	/** @return an open wait; close it when done */
	synchronized Expectation expect() {
		Expectation e = new Expectation();
		open.add(e);
		return e;
	}

	/** Called for each JobRemoved signal. */
	synchronized void jobRemoved(String job, String result) {
		if (open.isEmpty()) {
			return;
		}
		for (Expectation e : open) {
			if (job.equals(e.job)) {
				e.result.complete(result);
				return;
			}
		}
		unclaimed.put(job, result);
	}

	/** Called when the connection the signals come through is gone: no open wait can end well. */
	synchronized void connectionLost(String cause) {
		for (Expectation e : open) {
			e.result.completeExceptionally(new IOException("the connection to the system bus was lost: " + cause));
		}
	}

	/** @return how many waits are open (for tests) */
	synchronized int openCount() {
		return open.size() + unclaimed.size();
	}

	/** A wait for one job's removal. */
	final class Expectation implements AutoCloseable {
		/** guarded by JobTracker.this */
		private String job;
		private final CompletableFuture<String> result = new CompletableFuture<>();

		/**
		 * @param jobPath the job's object path, from the call that queued it
		 * @param timeout how long to wait
		 * @return the job's result: {@code done}, {@code failed}, {@code canceled}, ...
		 * @throws IOException not removed in time, or the connection was lost
		 */
		String await(String jobPath, Duration timeout) throws IOException {
			synchronized (JobTracker.this) {
				job = jobPath;
				String early = unclaimed.remove(jobPath);
				if (early != null) {
					result.complete(early);
				}
			}
			try {
				return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
			} catch (TimeoutException e) {
				throw new IOException("job " + jobPath + " did not finish within " + timeout.toSeconds() + " s");
			} catch (ExecutionException e) {
				throw e.getCause() instanceof IOException io ? new IOException(io.getMessage(), io)
						: new IOException(e.getCause());
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new IOException("interrupted while waiting for job " + jobPath);
			}
		}

		@Override
		public void close() {
			synchronized (JobTracker.this) {
				open.remove(this);
				if (open.isEmpty()) {
					unclaimed.clear();
				}
			}
		}
	}
}
