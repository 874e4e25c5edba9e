package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/**
 * What {@code psi update} found and did for one image.
 *
 * @since 2.6
 */
public class UpdateDTO extends DTO {
	/** What happened to the image. */
	public enum Outcome {
		/** its origin offers nothing newer */
		UP_TO_DATE("up to date"),
		/** its origin offers a newer version ({@link UpdateRequestDTO#check}: nothing was changed) */
		AVAILABLE("available"),
		/** held ({@code psi hold}): not asked */
		HELD("held"),
		/** the newer version was pulled and the attached image moved to it, and it held */
		UPDATED("updated"),
		/** the newer version was pulled; nothing of the image is attached */
		PULLED("pulled"),
		/** the newer version did not hold and the image went back ({@link UpdateDTO#changes} say why) */
		ROLLED_BACK("rolled back"),
		/** asking, pulling or moving failed ({@link UpdateDTO#detail} says why) */
		FAILED("failed"),
		/** psi did not pull it: it has no origin to ask */
		NO_ORIGIN("no origin");

		private final String label;

		Outcome(String label) {
			this.label = label;
		}

		/** @return the word the text output uses */
		public String label() {
			return label;
		}
	}

	/** The image name, without version. */
	public String name;
	/** The newest version on the host, or {@code null}. */
	public String current;
	/** The newest version its origin offers, or {@code null}. */
	public String available;
	/** Where the newer version is, or {@code null}. */
	public String url;
	/** What happened. */
	public Outcome outcome;
	/** One line more: why it failed, where it was asked; or {@code null}. */
	public String detail;
	/** The changes and jobs of the pull and the move, as {@code psi start} reports them. */
	public List<ChangeDTO> changes = new ArrayList<>();
}
