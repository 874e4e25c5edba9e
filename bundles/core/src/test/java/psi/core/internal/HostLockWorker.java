package psi.core.internal;

import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.DetachRequestDTO;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.sandbox.SandboxPolicy;

/**
 * One psi process of {@link HostLockTest}: a fresh engine (as each
 * {@code psi} command is) that attaches, detaches and reattaches images
 * under one root at random, printing one line per operation:
 * {@code ok VERB IMAGE} or {@code refused VERB IMAGE: MESSAGE}. Anything
 * else (a Java exception, a message of more than one line) ends it with
 * status 2.
 */
public final class HostLockWorker {

	private HostLockWorker() {
	}

	/** @param args root, seed, rounds, then the image names (versions of one name are reattached) */
	public static void main(String[] args) throws Exception {
		Path root = Path.of(args[0]);
		Random random = new Random(Long.parseLong(args[1]));
		int rounds = Integer.parseInt(args[2]);
		List<String> images = List.of(args).subList(3, args.length);
		PortablesEngine engine = engine(root);
		for (int i = 0; i < rounds; i++) {
			String image = images.get(random.nextInt(images.size()));
			int op = random.nextInt(3);
			String verb = op == 0 ? "attach" : op == 1 ? "detach" : "reattach";
			try {
				switch (op) {
					case 0 -> engine.attach(attach(image));
					case 1 -> {
						DetachRequestDTO d = new DetachRequestDTO();
						d.image = image;
						engine.detach(d);
					}
					default -> engine.reattach(attach(image));
				}
				System.out.println("ok " + verb + " " + image);
			} catch (PsiException e) {
				String m = String.valueOf(e.getMessage());
				if (m.contains("\n") || e.getSuppressed().length > 0) {
					System.out.println("BAD " + verb + " " + image + ": " + m.replace('\n', '|'));
					System.exit(2);
				}
				System.out.println("refused " + verb + " " + image + ": " + m);
			}
		}
		System.exit(0);
	}

	private static AttachRequestDTO attach(String image) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = image;
		r.prefixes = List.of(image.substring(0, image.indexOf('_')));
		return r;
	}

	static PortablesEngine engine(Path root) {
		PortablesEngine engine = new PortablesEngine(config(root));
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
			? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		engine.formats = List.of(dirs);
		engine.policies = List.of(java.util.Map.entry(java.util.Map.<String, Object>of(), new SandboxPolicy() {
			@Override
			public Set<String> profiles() {
				return Set.of("default");
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return Optional.of("[Service]\nPrivateTmp=yes\n".getBytes(StandardCharsets.UTF_8));
			}
		}));
		return engine;
	}

	static PortablesEngine.Config config(Path root) {
		return new PortablesEngine.Config() {
			@Override
			public Class<? extends Annotation> annotationType() {
				return PortablesEngine.Config.class;
			}

			@Override
			public String root() {
				return root.toString();
			}

			@Override
			public long formatTimeout() {
				return 120;
			}

			@Override
			public long policyTimeout() {
				return 30;
			}

			@Override
			public long verifierTimeout() {
				return 3600;
			}

			@Override
			public long transportTimeout() {
				return 300;
			}

			@Override
			public int partialMaxAge() {
				return 7;
			}

			@Override
			public long managerTimeout() {
				return 300;
			}

			@Override
			public int settle() {
				return 10;
			}

			@Override
			public int keepVersions() {
				return 3;
			}

			@Override
			public String defaultProfile() {
				return "default";
			}

			@Override
			public String verify() {
				return "";
			}
		};
	}
}
