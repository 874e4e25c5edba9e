package psi.core.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;

import psi.api.PsiException;

/**
 * The one place the engine calls plugins through. Each call runs on a
 * worker thread with a time limit for its kind, so that a plugin that throws
 * an unchecked exception, returns nothing where it must answer, or hangs
 * fails that one operation with a line naming the plugin and its bundle;
 * the engine goes on. A plugin's {@link IOException} is its answer (a bad
 * image, a refused signature) and passes through unchanged.
 * <p>
 * A call made from inside a guarded call (the many reads of one image the
 * engine batches with {@link GuardedTree#reading}, a verifier fetching a
 * sidecar through the transport) runs in place, under the outer call's limit,
 * and still names its own plugin when it fails: one hand-over to a worker
 * thread costs some 20 µs, and reading an image takes hundreds of calls.
 * <p>
 * Thread safe. A hung call's thread is interrupted and left behind: Java
 * cannot stop it, and it holds nothing of the engine's.
 */
final class PluginCalls {

	/** What kind of plugin is called, with the limit it gets. */
	enum Kind {
		/** image formats and the trees they open */
		FORMAT("image format", "formatTimeout"),
		/** sandbox policies */
		POLICY("sandbox policy", "policyTimeout"),
		/** verifiers, and checking an image's integrity block by block */
		VERIFIER("verifier", "verifierTimeout"),
		/** transports; the limit is for a transfer that makes no progress */
		TRANSPORT("transport", "transportTimeout"),
		/** service managers */
		MANAGER("service manager", "managerTimeout");

		final String noun;
		final String property;

		Kind(String noun, String property) {
			this.noun = noun;
			this.property = property;
		}
	}

	/** A plugin call. */
	@FunctionalInterface
	interface Call<T> {
		T run() throws IOException;
	}

	/** The limits, in seconds, by kind. */
	record Limits(long format, long policy, long verifier, long transport, long manager) {
		/** The defaults: generous for work that reads whole images, short for what answers from memory. */
		static final Limits DEFAULT = new Limits(120, 30, 3600, 300, 300);

		long of(Kind k) {
			return switch (k) {
				case FORMAT -> format;
				case POLICY -> policy;
				case VERIFIER -> verifier;
				case TRANSPORT -> transport;
				case MANAGER -> manager;
			};
		}
	}

	private static final ExecutorService WORKERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
		new SynchronousQueue<>(), r -> {
			Thread t = new Thread(r, "psi-plugin-call");
			t.setDaemon(true);
			return t;
		});

	/** Whether this thread runs a guarded call now: calls it makes run in place, under the outer call's limit. */
	private static final ThreadLocal<Boolean> GUARDED = ThreadLocal.withInitial(() -> Boolean.FALSE);

	private volatile Limits limits;

	PluginCalls(Limits limits) {
		this.limits = limits;
	}

	void limits(Limits l) {
		this.limits = l;
	}

	Limits limits() {
		return limits;
	}

	/**
	 * Calls a plugin.
	 *
	 * @param kind what kind of plugin
	 * @param plugin the plugin object (named in messages)
	 * @param what what it is asked, for messages: {@code "opening /var/lib/portables/foo"}
	 * @param call the call
	 * @return what it returned
	 * @throws IOException what the plugin threw as its answer
	 * @throws PsiException when it failed otherwise or did not answer in time
	 */
	<T> T call(Kind kind, Object plugin, String what, Call<T> call) throws IOException {
		return call(kind, plugin, what, call, null);
	}

	/**
	 * As {@link #call(Kind, Object, String, Call)}, the limit counted from the
	 * last time the call reported progress in {@code progress} (nanoTime).
	 */
	<T> T call(Kind kind, Object plugin, String what, Call<T> call, AtomicLong progress) throws IOException {
		if (GUARDED.get()) {
			// inside a guarded call (a batch of reads, a verifier fetching a sidecar): the outer limit holds
			try {
				return call.run();
			} catch (PsiException | IOException | VirtualMachineError e) {
				throw e;
			} catch (RuntimeException | Error e) {
				throw new PsiException(name(kind, plugin) + " failed while " + what + ": " + e, e);
			}
		}
		long limitNanos = TimeUnit.SECONDS.toNanos(Math.max(1, limits.of(kind)));
		Future<T> f;
		try {
			f = WORKERS.submit(() -> {
				GUARDED.set(Boolean.TRUE);
				try {
					return call.run();
				} finally {
					GUARDED.set(Boolean.FALSE);
				}
			});
		} catch (java.util.concurrent.RejectedExecutionException e) {
			throw new PsiException("cannot call " + name(kind, plugin) + ": " + e.getMessage(), e);
		}
		long start = System.nanoTime();
		Bundle bundle = bundleOrNull(plugin);
		try {
			while (true) {
				long from = progress == null ? start : Math.max(start, progress.get());
				long left = from + limitNanos - System.nanoTime();
				try {
					// a plugin whose bundle leaves fails what it does now, at once: its code is going
					return f.get(Math.max(1, Math.min(left, LEFT_CHECK_NANOS)), TimeUnit.NANOSECONDS);
				} catch (TimeoutException e) {
					if (left(bundle)) {
						f.cancel(true);
						throw removed(kind, plugin, bundle, what);
					}
					if (left > LEFT_CHECK_NANOS || progress != null && progress.get() > from) {
						continue;
					}
					f.cancel(true);
					throw new PsiException(name(kind, plugin) + " did not answer in " + limits.of(kind) + " s while " + what
						+ "; gave up on it (limit: " + kind.property + " of " + PortablesEngine.PID + ")");
				}
			}
		} catch (InterruptedException e) {
			f.cancel(true);
			Thread.currentThread().interrupt();
			throw new InterruptedIOException("interrupted while " + what);
		} catch (ExecutionException e) {
			Throwable c = e.getCause();
			if (left(bundle)) {
				throw removed(kind, plugin, bundle, what);
			}
			if (c instanceof PsiException p) {
				throw p;
			}
			if (c instanceof IOException io) {
				throw io;
			}
			if (c instanceof VirtualMachineError v) {
				throw v;
			}
			throw new PsiException(name(kind, plugin) + " failed while " + what + ": " + c, c);
		}
	}

	/**
	 * @return the plugin's answer
	 * @throws PsiException when it is {@code null}
	 */
	static <T> T answer(T value, Kind kind, Object plugin, String what) {
		if (value == null) {
			throw new PsiException(name(kind, plugin) + " answered nothing (null) while " + what);
		}
		return value;
	}

	/** How often a call's wait looks whether the plugin's bundle is still there. */
	private static final long LEFT_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

	private static Bundle bundleOrNull(Object plugin) {
		try {
			return FrameworkUtil.getBundle(plugin.getClass());
		} catch (NoClassDefFoundError | RuntimeException e) {
			return null;
		}
	}

	/** @return whether the plugin's bundle is stopping or gone (a plugin not from a bundle never leaves) */
	private static boolean left(Bundle b) {
		return b != null && (b.getState() & (Bundle.ACTIVE | Bundle.STARTING)) == 0;
	}

	private static PsiException removed(Kind kind, Object plugin, Bundle b, String what) {
		return new PsiException(kind.noun + " " + plugin.getClass().getName() + " (bundle " + b.getSymbolicName() + " " + b.getVersion()
			+ ") was removed while " + what + ": stopped");
	}

	/** @return {@code image format DirectoryFormat (bundle psi.format.directory)} */
	static String name(Kind kind, Object plugin) {
		return kind.noun + " " + plugin.getClass().getName() + " (" + bundleOf(plugin) + ")";
	}

	/**
	 * @return how {@code psi inspect} names the plugin that did a thing:
	 *         {@code psi.format.raw 0.1.0 (raw, service.ranking 0)}
	 */
	static String describe(Object plugin, String type) {
		String ranking = "";
		try {
			Bundle b = FrameworkUtil.getBundle(plugin.getClass());
			if (b == null) {
				return plugin.getClass().getName() + " (" + type + ")";
			}
			org.osgi.framework.BundleContext ctx = FrameworkUtil.getBundle(PluginCalls.class) == null ? null
				: FrameworkUtil.getBundle(PluginCalls.class).getBundleContext();
			org.osgi.framework.ServiceReference<?>[] refs = b.getRegisteredServices();
			for (int i = 0; ctx != null && refs != null && i < refs.length; i++) {
				Object o = ctx.getService(refs[i]);
				try {
					if (o == plugin) {
						Object r = refs[i].getProperty(org.osgi.framework.Constants.SERVICE_RANKING);
						ranking = ", service.ranking " + (r instanceof Integer ? r : 0);
					}
				} finally {
					if (o != null) {
						ctx.ungetService(refs[i]);
					}
				}
			}
			return b.getSymbolicName() + " " + b.getVersion() + " (" + type + ranking + ")";
		} catch (NoClassDefFoundError | RuntimeException e) {
			return plugin.getClass().getName() + " (" + type + ")";
		}
	}

	private static String bundleOf(Object plugin) {
		try {
			Bundle b = FrameworkUtil.getBundle(plugin.getClass());
			return b == null ? "not from a bundle" : "bundle " + b.getSymbolicName() + " " + b.getVersion();
		} catch (NoClassDefFoundError | RuntimeException e) {
			return "not from a bundle";
		}
	}
}
