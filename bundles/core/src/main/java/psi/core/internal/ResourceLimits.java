package psi.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;

/**
 * The admin's firewall and resource limits for an image's services
 * ({@code --allow-ip}, {@code --deny-ip}, {@code --memory-max},
 * {@code --cpu-quota}, {@code --tasks-max}), as psi's drop-in
 * {@value #FILE} beside each service. It is read after the profile and the
 * portable drop-in, so its values win; the address lists it sets start
 * with an empty assignment, which resets what the image's unit listed (a
 * unit's {@code IPAddressAllow=any} would otherwise open the admin's
 * firewall). Accounting is switched on for {@code psi status}. Every
 * value is checked here and written as systemd parses it back.
 */
final class ResourceLimits {

	/** The drop-in's file name: after {@code 20-portable.conf}. */
	static final String FILE = "30-psi-limits.conf";

	private static final Set<String> WORDS = Set.of("any", "localhost", "link-local", "multicast");
	private static final Pattern SIZE = Pattern.compile("[0-9]{1,19}[KMGTPE]?|[0-9]{1,3}(\\.[0-9]{1,2})?%|infinity");
	private static final Pattern PERCENT = Pattern.compile("[0-9]{1,6}%?");
	private static final Pattern TASKS = Pattern.compile("[0-9]{1,19}|[0-9]{1,3}(\\.[0-9]{1,2})?%|infinity");

	private ResourceLimits() {
	}

	/** @return whether the request sets any of the five */
	static boolean asked(AttachRequestDTO r) {
		return r.allowIp != null && !r.allowIp.isEmpty() || r.denyIp != null && !r.denyIp.isEmpty() || r.memoryMax != null
			|| r.cpuQuota != null || r.tasksMax != null;
	}

	/**
	 * @return the drop-in, or {@code null} when the request sets none of the five
	 * @throws PsiException naming the option and the value it refuses
	 */
	static byte[] dropIn(AttachRequestDTO r) {
		if (!asked(r)) {
			return null;
		}
		StringBuilder sb = new StringBuilder("# Written by psi: the admin's limits (psi attach/start --allow-ip, --deny-ip,\n"
			+ "# --memory-max, --cpu-quota, --tasks-max), read after the profile and the image.\n[Service]\n");
		sb.append("IPAccounting=yes\nMemoryAccounting=yes\nCPUAccounting=yes\nTasksAccounting=yes\n");
		addresses(sb, "IPAddressAllow", "--allow-ip", r.allowIp);
		addresses(sb, "IPAddressDeny", "--deny-ip", r.denyIp);
		if (r.memoryMax != null) {
			sb.append("MemoryMax=").append(check("--memory-max", r.memoryMax, SIZE, "bytes with K, M, G, T, P or E, a percentage, or infinity"))
				.append('\n');
		}
		if (r.cpuQuota != null) {
			String q = check("--cpu-quota", r.cpuQuota, PERCENT, "a percentage of one CPU, e.g. 50% or 200%");
			q = q.endsWith("%") ? q : q + "%";
			if (Long.parseLong(q.substring(0, q.length() - 1)) == 0) {
				throw new PsiException("--cpu-quota " + UnitValues.show(r.cpuQuota) + ": must be more than 0%");
			}
			sb.append("CPUQuota=").append(q).append('\n');
		}
		if (r.tasksMax != null) {
			sb.append("TasksMax=").append(check("--tasks-max", r.tasksMax, TASKS, "a number of tasks, a percentage, or infinity")).append('\n');
		}
		return sb.toString().getBytes(StandardCharsets.UTF_8);
	}

	private static String check(String option, String value, Pattern p, String expected) {
		String v = value.strip();
		if (!p.matcher(v).matches() || v.endsWith("%") && Double.parseDouble(v.substring(0, v.length() - 1)) > 100 && p != PERCENT) {
			throw new PsiException(option + " " + UnitValues.show(value) + ": not " + expected);
		}
		return v;
	}

	private static void addresses(StringBuilder sb, String key, String option, List<String> values) {
		if (values == null || values.isEmpty()) {
			return;
		}
		sb.append(key).append("=\n");
		for (String v : values) {
			for (String a : v.trim().split("[\\s,]+")) {
				if (!a.isEmpty()) {
					sb.append(key).append('=').append(address(option, a)).append('\n');
				}
			}
		}
	}

	/** @return an address prefix as systemd takes it, checked here by its text alone (no name is ever looked up) */
	static String address(String option, String a) {
		String lower = a.toLowerCase(Locale.ROOT);
		if (WORDS.contains(lower)) {
			return lower;
		}
		int slash = lower.indexOf('/');
		String addr = slash < 0 ? lower : lower.substring(0, slash);
		int max = isIpv4(addr) ? 32 : isIpv6(addr) ? 128 : -1;
		if (max < 0) {
			throw new PsiException(option + " " + UnitValues.show(a)
				+ ": not an address prefix (10.0.0.0/8, ::1/128, or any, localhost, link-local, multicast)");
		}
		if (slash >= 0) {
			String len = lower.substring(slash + 1);
			if (!len.matches("[0-9]{1,3}") || Integer.parseInt(len) > max) {
				throw new PsiException(option + " " + UnitValues.show(a) + ": the prefix length must be 0 to " + max);
			}
			return addr + "/" + Integer.parseInt(len);
		}
		return addr;
	}

	static boolean isIpv4(String s) {
		String[] p = s.split("\\.", -1);
		if (p.length != 4) {
			return false;
		}
		for (String o : p) {
			if (!o.matches("[0-9]{1,3}") || Integer.parseInt(o) > 255) {
				return false;
			}
		}
		return true;
	}

	static boolean isIpv6(String s) {
		if (s.isEmpty() || s.length() > 45) {
			return false;
		}
		int dc = s.indexOf("::");
		if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
			return false;
		}
		List<String> groups = new java.util.ArrayList<>();
		for (String half : dc >= 0 ? new String[] { s.substring(0, dc), s.substring(dc + 2) } : new String[] { s }) {
			if (!half.isEmpty()) {
				groups.addAll(List.of(half.split(":", -1)));
			}
		}
		int words = 0;
		for (int i = 0; i < groups.size(); i++) {
			String g = groups.get(i);
			if (i == groups.size() - 1 && g.contains(".")) {
				if (!isIpv4(g)) {
					return false;
				}
				words += 2;
			} else if (g.matches("[0-9a-f]{1,4}")) {
				words++;
			} else {
				return false;
			}
		}
		return dc >= 0 ? words < 8 : words == 8;
	}
}
