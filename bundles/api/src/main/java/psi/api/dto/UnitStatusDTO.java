package psi.api.dto;

import org.osgi.dto.DTO;

/** A unit of an image, as the service manager reports it. */
public class UnitStatusDTO extends DTO {
	/** The unit name. */
	public String name;
	/** Its Description=. */
	public String description;
	/** {@code loaded}, {@code not-found}, ... */
	public String loadState;
	/** {@code active}, {@code inactive}, {@code failed}, {@code activating}, ... */
	public String activeState;
	/** {@code running}, {@code dead}, {@code exited}, {@code listening}, ... */
	public String subState;
	/** The main process, 0 if none. */
	public long mainPid;
	/** The main process's last exit status. */
	public int execMainStatus;
	/** Bytes of memory, -1 when unknown. */
	public long memory;
	/** Tasks, -1 when unknown. */
	public long tasks;
	/** When it last became active, µs since the epoch, 0 if never. */
	public long since;
	/** The unit's result, e.g. {@code success}, {@code exit-code}. */
	public String result;
	/** Whether it counts as running: active, reloading, activating or deactivating. */
	public boolean running;
	/** For a timer: when it elapses next, µs since the epoch, 0 when not armed. @since 2.2 */
	public long nextElapse;
	/** CPU time used, nanoseconds, -1 when unknown. @since 2.2 */
	public long cpuNanos = -1;
	/** What the manager says the admin should know: directives it does not implement, one line each. @since 2.2 */
	public java.util.List<String> warnings = new java.util.ArrayList<>();
	/** What the service last said of itself ({@code STATUS=} of {@code sd_notify}), empty if nothing. @since 2.3 */
	public String statusText = "";

	/** IP bytes received, -1 when unknown (accounting off, or a manager that does not count). @since 2.7 */
	public long ipInBytes = -1;
	/** IP packets received, -1 when unknown. @since 2.7 */
	public long ipInPackets = -1;
	/** IP bytes sent, -1 when unknown. @since 2.7 */
	public long ipOutBytes = -1;
	/** IP packets sent, -1 when unknown. @since 2.7 */
	public long ipOutPackets = -1;
}
