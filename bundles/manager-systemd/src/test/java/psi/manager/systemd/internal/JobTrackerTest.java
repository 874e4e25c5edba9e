package psi.manager.systemd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class JobTrackerTest {

	static final String JOB = "/org/freedesktop/systemd1/job/42";

	JobTracker jobs = new JobTracker();

	@Test
	void aSignalBeforeTheReplyIsKeptForTheWaiter() throws Exception {
		try (JobTracker.Expectation e = jobs.expect()) {
			jobs.jobRemoved(JOB, "done");
			assertEquals("done", e.await(JOB, Duration.ofSeconds(5)));
		}
		assertEquals(0, jobs.openCount());
	}

	@Test
	void aSignalAfterTheReplyWakesTheWaiter() throws Exception {
		try (JobTracker.Expectation e = jobs.expect()) {
			CompletableFuture<String> r = CompletableFuture.supplyAsync(() -> {
				try {
					return e.await(JOB, Duration.ofSeconds(10));
				} catch (IOException x) {
					throw new RuntimeException(x);
				}
			});
			Thread.sleep(100);
			jobs.jobRemoved("/org/freedesktop/systemd1/job/41", "done");
			jobs.jobRemoved(JOB, "failed");
			assertEquals("failed", r.get(10, TimeUnit.SECONDS));
		}
	}

	@Test
	void signalsNobodyWaitsForAreDropped() {
		jobs.jobRemoved(JOB, "done");
		assertEquals(0, jobs.openCount());
		JobTracker.Expectation e = jobs.expect();
		jobs.jobRemoved("/org/freedesktop/systemd1/job/7", "done");
		e.close();
		assertEquals(0, jobs.openCount(), "unclaimed results go with the last wait");
	}

	@Test
	void aJobThatDoesNotEndInTimeIsAnError() {
		try (JobTracker.Expectation e = jobs.expect()) {
			IOException x = assertThrows(IOException.class, () -> e.await(JOB, Duration.ofMillis(50)));
			assertEquals("job " + JOB + " did not finish within 0 s", x.getMessage());
		}
	}

	@Test
	void aLostConnectionEndsTheWait() {
		try (JobTracker.Expectation e = jobs.expect()) {
			jobs.connectionLost("Connection reset by peer");
			IOException x = assertThrows(IOException.class, () -> e.await(JOB, Duration.ofSeconds(10)));
			assertTrue(x.getMessage().contains("the connection to the system bus was lost: Connection reset by peer"),
					x.getMessage());
		}
	}
}
