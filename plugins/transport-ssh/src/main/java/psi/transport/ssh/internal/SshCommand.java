package psi.transport.ssh.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * How psi runs OpenSSH's {@code ssh} for an SFTP session. Everything not
 * forced here comes from the ssh configuration (the admin's
 * {@code ~/.ssh/config} and {@code /etc/ssh/ssh_config}, or
 * {@link #configFile()}): keys, agent, certificates, ProxyJump, ciphers.
 * <p>
 * Forced, in this order, since ssh takes the first value it sees of each
 * option and the command line comes first:
 * <ul>
 * <li>{@code BatchMode=yes}, {@code StrictHostKeyChecking=yes}: never a
 * prompt; a host whose key is unknown or changed is refused</li>
 * <li>{@code ConnectTimeout}: the connection and key exchange</li>
 * <li>{@code -T -x -a -e none ClearAllForwardings=yes Tunnel=no}: no
 * terminal, X11 or agent forwarding, escape character, port forwarding or
 * tunnel</li>
 * <li>{@code RemoteCommand=none PermitLocalCommand=no
 * ForkAfterAuthentication=no StdinNull=no}: nothing from the configuration
 * that would run something else, write to the SFTP stream or detach from
 * it</li>
 * <li>{@code -s} and {@code --} before the host: the {@code sftp}
 * subsystem, and a host never taken for an option</li>
 * </ul>
 *
 * @param program the ssh binary, e.g. {@code ssh}
 * @param configFile an ssh_config file passed with {@code -F}, or empty for ssh's own
 * @param connectTimeout seconds, at least 1
 */
record SshCommand(String program, String configFile, int connectTimeout) {

	/** @return the command line for an SFTP session with the URL's host */
	List<String> sftp(SshUrl url) {
		List<String> c = new ArrayList<>();
		c.add(program);
		if (!configFile.isEmpty()) {
			c.add("-F");
			c.add(configFile);
		}
		option(c, "BatchMode=yes");
		option(c, "StrictHostKeyChecking=yes");
		option(c, "ConnectTimeout=" + Math.max(1, connectTimeout));
		c.addAll(List.of("-T", "-x", "-a", "-e", "none"));
		option(c, "ClearAllForwardings=yes");
		option(c, "Tunnel=no");
		option(c, "RemoteCommand=none");
		option(c, "PermitLocalCommand=no");
		option(c, "ForkAfterAuthentication=no");
		option(c, "StdinNull=no");
		if (url.port() > 0) {
			c.add("-p");
			c.add(Integer.toString(url.port()));
		}
		if (url.user() != null) {
			c.add("-l");
			c.add(url.user());
		}
		c.add("-s");
		c.add("--");
		c.add(url.host());
		c.add("sftp");
		return c;
	}

	private static void option(List<String> c, String option) {
		c.add("-o");
		c.add(option);
	}
}
