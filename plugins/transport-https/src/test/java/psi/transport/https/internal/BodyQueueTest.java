package psi.transport.https.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The hand-off between the client's thread and the fetching thread, without a network. */
class BodyQueueTest {

	static final int MIB = 1 << 20;

	static final class Subscription implements Flow.Subscription {
		final AtomicBoolean cancelled = new AtomicBoolean();
		volatile long requested;

		@Override
		public void request(long n) {
			requested += n;
		}

		@Override
		public void cancel() {
			cancelled.set(true);
		}
	}

	static List<ByteBuffer> mib() {
		return List.of(ByteBuffer.allocate(MIB));
	}

	@Test
	void theFetchingThreadNeverWaitsForItself() throws Exception {
		// the client may run the subscriber on the fetching thread (its executor runs
		// callbacks inline): waiting for room there would wait forever
		AtomicReference<BodyQueue> queue = new AtomicReference<>();
		CountDownLatch done = new CountDownLatch(1);
		Thread fetching = new Thread(() -> {
			BodyQueue q = new BodyQueue();
			queue.set(q);
			BodySubscriber<Void> s = q.streaming(Long.MAX_VALUE);
			s.onSubscribe(new Subscription());
			for (int i = 0; i < 2 * BodyQueue.CAPACITY / MIB; i++) {
				s.onNext(mib());
			}
			done.countDown();
		});
		fetching.setDaemon(true);
		fetching.start();
		assertTrue(done.await(5, TimeUnit.SECONDS), "the fetching thread waited for room only it can make");
		int chunks = 0;
		for (Object o; (o = queue.get().take(0)) != null;) {
			assertInstanceOf(BodyQueue.Chunk.class, o);
			chunks++;
		}
		assertEquals(2 * BodyQueue.CAPACITY / MIB, chunks);
	}

	@Test
	void anotherThreadWaitsForRoom() throws Exception {
		BodyQueue q = new BodyQueue();
		BodySubscriber<Void> s = q.streaming(Long.MAX_VALUE);
		Subscription sub = new Subscription();
		int n = BodyQueue.CAPACITY / MIB + 3;
		CountDownLatch done = new CountDownLatch(1);
		Thread client = new Thread(() -> {
			s.onSubscribe(sub);
			for (int i = 0; i < n; i++) {
				s.onNext(mib());
			}
			s.onComplete();
			done.countDown();
		});
		client.setDaemon(true);
		client.start();
		assertFalse(done.await(500, TimeUnit.MILLISECONDS), "waits while the queue is full");
		int chunks = 0;
		for (;;) {
			Object o = q.take(5000);
			if (o == BodyQueue.END) {
				break;
			}
			BodyQueue.Chunk c = assertInstanceOf(BodyQueue.Chunk.class, o);
			q.release(c);
			chunks++;
		}
		assertEquals(n, chunks);
		assertTrue(done.await(5, TimeUnit.SECONDS));
		assertEquals(Long.MAX_VALUE, sub.requested);
	}

	@Test
	void closingWakesAWaitingClientThread() throws Exception {
		BodyQueue q = new BodyQueue();
		BodySubscriber<Void> s = q.streaming(Long.MAX_VALUE);
		Subscription sub = new Subscription();
		CountDownLatch done = new CountDownLatch(1);
		Thread client = new Thread(() -> {
			s.onSubscribe(sub);
			for (int i = 0; i < BodyQueue.CAPACITY / MIB + 3; i++) {
				s.onNext(mib());
			}
			done.countDown();
		});
		client.setDaemon(true);
		client.start();
		assertFalse(done.await(300, TimeUnit.MILLISECONDS));
		q.close();
		assertTrue(done.await(5, TimeUnit.SECONDS));
		assertTrue(sub.cancelled.get());
	}

	@Test
	void pastTheLimitNothingIsQueued() throws Exception {
		BodyQueue q = new BodyQueue();
		BodySubscriber<Void> s = q.streaming(MIB + 10);
		Subscription sub = new Subscription();
		Thread client = new Thread(() -> {
			s.onSubscribe(sub);
			s.onNext(mib());
			s.onNext(List.of(ByteBuffer.allocate(11)));
			s.onNext(mib());
			s.onComplete();
		});
		client.setDaemon(true);
		client.start();
		client.join(5000);
		assertInstanceOf(BodyQueue.Chunk.class, q.take(1000));
		assertSame(BodyQueue.OVERFLOW, q.take(1000));
		assertNull(q.take(100), "nothing after the overflow, not even the end");
		assertTrue(sub.cancelled.get());
		assertTrue(s.getBody().toCompletableFuture().isDone());
	}

	@Test
	void aBreakIsQueuedAfterTheData() throws Exception {
		BodyQueue q = new BodyQueue();
		BodySubscriber<Void> s = q.streaming(Long.MAX_VALUE);
		Thread client = new Thread(() -> {
			s.onSubscribe(new Subscription());
			s.onNext(mib());
			s.onError(new java.io.EOFException("gone"));
		});
		client.setDaemon(true);
		client.start();
		client.join(5000);
		assertInstanceOf(BodyQueue.Chunk.class, q.take(1000));
		BodyQueue.Broken b = assertInstanceOf(BodyQueue.Broken.class, q.take(1000));
		assertEquals("gone", b.cause().getMessage());
	}
}
