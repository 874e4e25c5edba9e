package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class FramesTest {

	private static Frames.Frame read(byte[] bytes) throws IOException {
		return Frames.read(Channels.newChannel(new ByteArrayInputStream(bytes)));
	}

	@Test
	void aFrameRoundTrips() throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		byte[] data = "hello\n".getBytes();
		Frames.write(Channels.newChannel(out), Frames.STDOUT, data, 0, data.length);
		Frames.Frame f = read(out.toByteArray());
		assertEquals(Frames.STDOUT, f.type());
		assertArrayEquals(data, f.data());
	}

	@Test
	void theEndOfTheStreamBetweenFramesIsNoFrame() throws IOException {
		assertNull(read(new byte[0]));
	}

	@Test
	void aFrameCutOffIsRefused() {
		assertThrows(java.io.EOFException.class, () -> read(new byte[] { 'o', 0, 0, 0, 9, 'a' }));
		assertThrows(java.io.EOFException.class, () -> read(new byte[] { 'o', 0, 0 }));
	}

	@Test
	void aLengthBeyondTheBoundIsRefusedBeforeAnythingIsAllocated() {
		byte[] huge = ByteBuffer.allocate(5).put(Frames.STDIN).putInt(Integer.MAX_VALUE).array();
		IOException e = assertThrows(IOException.class, () -> read(huge));
		assertTrue(e.getMessage().contains("at most " + Frames.MAX_FRAME), e.getMessage());
		byte[] negative = ByteBuffer.allocate(5).put(Frames.REQUEST).putInt(-1).array();
		assertThrows(IOException.class, () -> read(negative));
		// a request may be larger than other frames, but bounded too
		byte[] bigRequest = ByteBuffer.allocate(5).put(Frames.REQUEST).putInt(Frames.MAX_REQUEST + 1).array();
		assertThrows(IOException.class, () -> read(bigRequest));
	}

	@Test
	void aRequestParses() throws IOException {
		byte[] r = Frames.request(List.of("version=1", "cwd=/srv/x/../y", "tty=1", "env=LANG=C.UTF-8", "env=PATH=/evil", "arg=inspect",
			"arg=a=b", "arg=", "future=field"));
		Connection.Request req = Connection.Request.parse(Frames.strings(r));
		assertEquals(Path.of("/srv/y"), req.cwd());
		assertTrue(req.terminal());
		assertEquals(java.util.Map.of("LANG", "C.UTF-8"), req.env(), "only the variables output depends on pass");
		assertEquals(List.of("inspect", "a=b", ""), req.args());
	}

	@Test
	void theShellsTerminalAndItsSize() throws IOException {
		Connection.Request req = Connection.Request.parse(
			Frames.strings(Frames.request(List.of("version=1", "cwd=/", "console=1", "cols=132", "rows=43"))));
		assertTrue(req.console());
		assertEquals(132, req.columns());
		assertEquals(43, req.rows());
		assertTrue(req.args().isEmpty());
		// a size no terminal has is unknown, not an error
		for (String bad : List.of("0", "-1", "10000", "x", "")) {
			Connection.Request r = Connection.Request.parse(Frames.strings(Frames.request(List.of("version=1", "cwd=/", "cols=" + bad))));
			assertEquals(0, r.columns(), bad);
		}
		assertTrue(!Connection.Request.parse(Frames.strings(Frames.request(List.of("version=1", "cwd=/")))).console());
	}

	/**
	 * The shell's frames go through a writer thread: the line editor
	 * interrupts its own thread on Ctrl-C, and a thread interrupted while it
	 * writes to a channel closes the channel (NIO's rule, shown first).
	 */
	@Test
	void aWriterKeepsTheChannelOpenWhenItsCallerIsInterrupted() throws Exception {
		java.nio.channels.Pipe direct = java.nio.channels.Pipe.open();
		Thread.currentThread().interrupt();
		assertThrows(java.nio.channels.ClosedByInterruptException.class,
			() -> Frames.Sink.direct(direct.sink(), new Object()).frame(Frames.STDOUT, new byte[] { 'x' }, 0, 1));
		assertTrue(!direct.sink().isOpen() && Thread.interrupted());

		java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		Thread reader = new Thread(() -> {
			try (java.io.InputStream in = Channels.newInputStream(pipe.source())) {
				in.transferTo(got);
			} catch (IOException e) {
				// the test sees what arrived
			}
		});
		reader.start();
		try (Frames.Writer w = new Frames.Writer(pipe.sink(), "test-writer")) {
			for (int i = 0; i < 200; i++) {
				Thread.currentThread().interrupt();
				byte[] b = Integer.toString(i).getBytes();
				w.frame(Frames.STDOUT, b, 0, b.length);
				assertTrue(Thread.interrupted(), "the caller's interrupt is kept for it");
			}
		}
		assertTrue(pipe.sink().isOpen());
		pipe.sink().close();
		reader.join(10_000);
		java.nio.channels.ReadableByteChannel frames = Channels.newChannel(new ByteArrayInputStream(got.toByteArray()));
		for (int i = 0; i < 200; i++) {
			assertEquals(Integer.toString(i), new String(Frames.read(frames).data()), "in order");
		}
		assertNull(Frames.read(frames));
	}

	@Test
	void aRequestWithoutVersionOrDirectoryIsRefused() {
		assertThrows(IOException.class, () -> Connection.Request.parse(Frames.strings(Frames.request(List.of("cwd=/", "arg=list")))));
		assertThrows(IOException.class, () -> Connection.Request.parse(Frames.strings(Frames.request(List.of("version=1", "arg=list")))));
		assertThrows(IOException.class, () -> Connection.Request.parse(Frames.strings(Frames.request(List.of("version=1", "cwd=rel")))));
		assertThrows(IOException.class, () -> Frames.strings(new byte[] { 'a' }), "a request must end in NUL");
	}

	@Test
	void invalidUtf8IsReplacedNotFatal() throws IOException {
		byte[] r = { 'a', 'r', 'g', '=', (byte) 0xff, 0 };
		assertEquals(List.of("arg=\ufffd"), Frames.strings(r));
	}
}
