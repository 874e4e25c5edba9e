package psi.portable1.internal;

import org.freedesktop.dbus.Tuple;
import org.freedesktop.dbus.annotations.Position;

/** The multi-value replies of portable1 (dbus-java sends a tuple's fields as separate out arguments). */
public final class Tuples {

	private Tuples() {
	}

	/** Two out arguments. */
	public static final class Two<A, B> extends Tuple {
		/** the first */
		@Position(0)
		public final A a;
		/** the second */
		@Position(1)
		public final B b;

		Two(A a, B b) {
			this.a = a;
			this.b = b;
		}
	}

	/** Three out arguments. */
	public static final class Three<A, B, C> extends Tuple {
		/** the first */
		@Position(0)
		public final A a;
		/** the second */
		@Position(1)
		public final B b;
		/** the third */
		@Position(2)
		public final C c;

		Three(A a, B b, C c) {
			this.a = a;
			this.b = b;
			this.c = c;
		}
	}

	/** Four out arguments. */
	public static final class Four<A, B, C, D> extends Tuple {
		/** the first */
		@Position(0)
		public final A a;
		/** the second */
		@Position(1)
		public final B b;
		/** the third */
		@Position(2)
		public final C c;
		/** the fourth */
		@Position(3)
		public final D d;

		Four(A a, B b, C c, D d) {
			this.a = a;
			this.b = b;
			this.c = c;
			this.d = d;
		}
	}
}
