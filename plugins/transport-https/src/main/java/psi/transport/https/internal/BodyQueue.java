package psi.transport.https.internal;

import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Hands one response from the HTTP client's thread to the fetching thread.
 * <p>
 * The client's thread puts, in order: what the response head decided (an
 * object of the caller's), then the body's buffers as {@link Chunk}s, then
 * {@link #END}, or a {@link Broken} or {@link #OVERFLOW} instead. The
 * fetching thread takes them, writes and hashes the buffers, and
 * {@linkplain #release releases} each chunk. Buffered body bytes are bounded
 * by {@link #CAPACITY}: the client's thread waits for room, which stops it
 * reading the socket, so TCP (or HTTP/2 flow control) slows the server down.
 * The two threads share only this object; the file is the fetching thread's
 * alone. Made by the fetching thread.
 */
final class BodyQueue {

	/** Body bytes buffered between the two threads at most. */
	static final int CAPACITY = 4 << 20;

	/** Body buffers, in order; {@code permits} to release once written. */
	record Chunk(List<ByteBuffer> buffers, int permits) {
	}

	/** The body broke off: the connection closed early, reset, or failed. */
	record Broken(Throwable cause) {
	}

	/** The exchange completed: after the body, or, with a failure, perhaps before any response. */
	record Done(Throwable failure) {
	}

	/** The whole body arrived. */
	static final Object END = new Object() {
		@Override
		public String toString() {
			return "end of body";
		}
	};

	/** The body went past its limit; nothing past it was queued. */
	static final Object OVERFLOW = new Object() {
		@Override
		public String toString() {
			return "body too long";
		}
	};

	/** The fetching thread, which must never wait for room it alone makes. */
	private final Thread consumer = Thread.currentThread();
	private final LinkedBlockingQueue<Object> items = new LinkedBlockingQueue<>();
	private final Semaphore room = new Semaphore(CAPACITY);
	private volatile boolean closed;
	private volatile long lastActivity = System.nanoTime();
	private volatile Flow.Subscription subscription;

	/** @param item what the response head decided; called by the client's thread before any body */
	void head(Object item) {
		touch();
		items.add(item);
	}

	/** @param failure why the exchange failed, or {@code null} */
	void done(Throwable failure) {
		items.add(new Done(failure));
	}

	/**
	 * Takes the next item, waiting at most {@code millis}.
	 *
	 * @return the item, or {@code null} if none came
	 */
	Object take(long millis) throws InterruptedException {
		return items.poll(millis, TimeUnit.MILLISECONDS);
	}

	/** @param chunk a chunk written and hashed: its room is free again */
	void release(Chunk chunk) {
		room.release(chunk.permits());
	}

	/** @return {@link System#nanoTime()} when the server last sent something */
	long lastActivity() {
		return lastActivity;
	}

	/**
	 * Stops the exchange: cancels the body's subscription (which closes an
	 * HTTP/1.1 connection and resets an HTTP/2 stream) and wakes the client's
	 * thread if it waits for room. Idempotent; any thread.
	 */
	void close() {
		closed = true;
		room.release(CAPACITY);
		Flow.Subscription s = subscription;
		if (s != null) {
			s.cancel();
		}
	}

	private void touch() {
		lastActivity = System.nanoTime();
	}

	/**
	 * A subscriber queueing the body.
	 *
	 * @param limit the most body bytes accepted; more is an {@link #OVERFLOW}
	 * @return the subscriber
	 */
	BodySubscriber<Void> streaming(long limit) {
		return new Streaming(limit);
	}

	/**
	 * A subscriber that reads and drops a short body (an error page, a
	 * redirect's) so the connection can serve again, and cuts a long one off.
	 *
	 * @return the subscriber
	 */
	BodySubscriber<Void> discarding() {
		return new Discarding();
	}

	private final class Streaming implements BodySubscriber<Void> {
		private final CompletableFuture<Void> body = new CompletableFuture<>();
		private final long limit;
		private long received;

		Streaming(long limit) {
			this.limit = limit;
		}

		@Override
		public CompletionStage<Void> getBody() {
			return body;
		}

		@Override
		public void onSubscribe(Flow.Subscription s) {
			subscription = s;
			if (closed) {
				s.cancel();
				return;
			}
			// backpressure comes from waiting for room in onNext
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(List<ByteBuffer> buffers) {
			touch();
			if (closed || body.isDone()) {
				return;
			}
			long n = 0;
			for (ByteBuffer b : buffers) {
				n += b.remaining();
			}
			if (n == 0) {
				return;
			}
			received += n;
			if (received > limit) {
				items.add(OVERFLOW);
				body.complete(null);
				subscription.cancel();
				return;
			}
			if (Thread.currentThread() == consumer) {
				// the client ran us on the fetching thread: waiting would wait for ourselves
				items.add(new Chunk(buffers, 0));
				return;
			}
			int permits = (int) Math.min(n, CAPACITY);
			try {
				while (!room.tryAcquire(permits, 200, TimeUnit.MILLISECONDS)) {
					if (closed) {
						return;
					}
				}
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				onError(e);
				return;
			}
			// the client no longer uses buffers once delivered (BodySubscriber's contract)
			items.add(new Chunk(buffers, permits));
		}

		@Override
		public void onError(Throwable t) {
			touch();
			if (!body.isDone()) {
				items.add(new Broken(t));
				body.complete(null);
			}
		}

		@Override
		public void onComplete() {
			touch();
			if (!body.isDone()) {
				items.add(END);
				body.complete(null);
			}
		}
	}

	private final class Discarding implements BodySubscriber<Void> {
		private static final long MOST = 64 << 10;
		private final CompletableFuture<Void> body = new CompletableFuture<>();
		private long received;
		private Flow.Subscription s;

		@Override
		public CompletionStage<Void> getBody() {
			return body;
		}

		@Override
		public void onSubscribe(Flow.Subscription s) {
			this.s = s;
			s.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(List<ByteBuffer> buffers) {
			for (ByteBuffer b : buffers) {
				received += b.remaining();
			}
			if (received > MOST && !body.isDone()) {
				body.complete(null);
				s.cancel();
			}
		}

		@Override
		public void onError(Throwable t) {
			body.complete(null);
		}

		@Override
		public void onComplete() {
			body.complete(null);
		}
	}
}
