//! NVIDIA GPU detection, through the driver's own `nvidia-smi`: what a provider advertises in
//! its offer. No driver, no GPUs.
use std::process::Command;

use lilypad_primitives::providers::{Gpu, MAX_GPU_MODEL_LEN, MAX_OFFER_GPUS};

/// One GPU, as the driver reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DetectedGpu {
	pub model: String,
	pub vram_mib: u32,
}

/// The query this module runs: one CSV line per GPU, `name, memory.total` in MiB.
pub const QUERY: [&str; 2] = ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"];

/// The GPUs `nvidia-smi` reports; none when it is absent or fails (no driver, no device).
pub fn detect() -> Vec<DetectedGpu> {
	detect_with("nvidia-smi")
}

/// As [`detect`], with the `nvidia-smi` program at `program`.
pub fn detect_with(program: &str) -> Vec<DetectedGpu> {
	let out = match Command::new(program).args(QUERY).output() {
		Ok(out) if out.status.success() => out,
		Ok(out) => {
			tracing::warn!(
				status = %out.status,
				stderr = %String::from_utf8_lossy(&out.stderr).trim(),
				"nvidia-smi failed: advertising no GPUs"
			);
			return Vec::new();
		}
		// Not installed: a machine without NVIDIA GPUs.
		Err(_) => return Vec::new(),
	};
	parse(&String::from_utf8_lossy(&out.stdout))
}

/// Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`; lines it
/// cannot read are skipped (and logged), never guessed.
pub fn parse(csv: &str) -> Vec<DetectedGpu> {
	csv.lines()
		.filter(|l| !l.trim().is_empty())
		.filter_map(|line| {
			let (model, mib) = line.rsplit_once(',')?;
			let parsed = mib.trim().parse::<u32>().ok().filter(|m| *m > 0);
			if parsed.is_none() {
				tracing::warn!(line, "unreadable nvidia-smi line");
			}
			Some(DetectedGpu { model: model.trim().to_owned(), vram_mib: parsed? })
				.filter(|g| !g.model.is_empty())
		})
		.collect()
}

/// What one of `capacity` job slots offers of the `detected` GPUs: an equal share (the first
/// ones), as the chain's offer models GPUs per job.
pub fn slot_gpus(detected: &[DetectedGpu], capacity: u32) -> Vec<Gpu> {
	let per_slot = detected.len() / capacity.max(1) as usize;
	detected[..per_slot]
		.iter()
		.take(MAX_OFFER_GPUS as usize)
		.map(|g| {
			let mut model = g.model.as_bytes().to_vec();
			model.truncate(MAX_GPU_MODEL_LEN as usize);
			Gpu { model: model.try_into().expect("truncated to the bound"), vram_mib: g.vram_mib }
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn parses_nvidia_smi_lines() {
		let csv = "NVIDIA H100 80GB HBM3, 81559\nNVIDIA GeForce RTX 4090, 24564\n\n";
		assert_eq!(
			parse(csv),
			vec![
				DetectedGpu { model: "NVIDIA H100 80GB HBM3".into(), vram_mib: 81559 },
				DetectedGpu { model: "NVIDIA GeForce RTX 4090".into(), vram_mib: 24564 },
			]
		);
	}

	#[test]
	fn skips_what_it_cannot_read() {
		assert_eq!(parse("NVIDIA A10, [N/A]\n, 100\nno comma\n"), vec![]);
	}

	#[test]
	fn slots_share_the_gpus() {
		let h100 = DetectedGpu { model: "NVIDIA H100 80GB HBM3".into(), vram_mib: 81559 };
		let four = vec![h100.clone(); 4];
		assert_eq!(slot_gpus(&four, 2).len(), 2);
		assert_eq!(slot_gpus(&four, 1).len(), 4);
		assert_eq!(slot_gpus(&four, 8).len(), 0, "fewer GPUs than slots: none per slot");
		let gpu = &slot_gpus(&four, 4)[0];
		assert_eq!((&gpu.model[..], gpu.vram_mib), (h100.model.as_bytes(), 81559));
		let long = DetectedGpu { model: "x".repeat(100), vram_mib: 1 };
		assert_eq!(slot_gpus(&[long], 1)[0].model.len(), MAX_GPU_MODEL_LEN as usize);
	}

	#[test]
	fn no_driver_means_no_gpus() {
		assert_eq!(detect_with("/nonexistent/nvidia-smi"), vec![]);
		// A program that fails, as nvidia-smi does with a driver but no device.
		assert_eq!(detect_with("false"), vec![]);
	}
}
