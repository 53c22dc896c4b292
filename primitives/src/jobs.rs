//! A job's terms and its result as the chain, the agent and the CLI exchange them: what a job
//! creator asks for, and the manifest a provider signs for what it ran (design §3). The jobs
//! pallet stores these; the agent signs [`result_signing_payload`]; anyone can re-check it.
use crate::registry::{Digest, VerificationPolicy};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use alloc::vec::Vec;

/// A job's number, assigned in submission order.
pub type JobId = u64;

/// Domain tag of a signed result, so that a result signature is never valid as anything else.
pub const RESULT_SIGNING_DOMAIN: &[u8] = b"lilypad/jobs/result/v1";

/// How a run of the module ended. Anything but a missing result is the module's doing, not the
/// provider's: the job completes and the provider is paid.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ExitStatus {
	/// Exit code 0.
	Success,
	/// A non-zero exit code.
	Failed { code: i32 },
	/// Killed at the module's timeout.
	TimedOut,
	/// Killed for exceeding its memory.
	OutOfMemory,
}

/// What one run used, as the provider measured it.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct Usage {
	pub wall_ms: u64,
	pub cpu_ms: u64,
	pub peak_ram_mib: u32,
	pub gpu_ms: u64,
}

/// What a provider attests it ran and produced: the content digests (blake3) of the module,
/// the inputs, the outputs and the logs, how it ended and what it used.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ResultManifest {
	pub job: JobId,
	pub module_digest: Digest,
	pub input_digest: Digest,
	pub output_digest: Digest,
	pub stdout_digest: Digest,
	pub stderr_digest: Digest,
	pub exit: ExitStatus,
	pub usage: Usage,
}

/// The bytes a provider signs for a result: domain tag, the chain's genesis hash and the
/// SCALE-encoded manifest.
pub fn result_signing_payload<Hash: Encode>(
	genesis_hash: &Hash,
	manifest: &ResultManifest,
) -> Vec<u8> {
	(RESULT_SIGNING_DOMAIN, genesis_hash, manifest).encode()
}

/// The verification a job gets: the module's policy, or a stricter one the job asks for.
/// `None` if the job asks for a looser one (design §3: stricter, never looser).
pub fn effective_verification(
	module: VerificationPolicy,
	requested: Option<VerificationPolicy>,
) -> Option<VerificationPolicy> {
	match requested {
		None => Some(module),
		Some(r) if r.strictness() >= module.strictness() => Some(r),
		Some(_) => None,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::sp_runtime::Perbill;

	fn manifest() -> ResultManifest {
		ResultManifest {
			job: 7,
			module_digest: [1; 32],
			input_digest: [2; 32],
			output_digest: [3; 32],
			stdout_digest: [4; 32],
			stderr_digest: [5; 32],
			exit: ExitStatus::Success,
			usage: Usage { wall_ms: 1_200, cpu_ms: 900, peak_ram_mib: 64, gpu_ms: 0 },
		}
	}

	#[test]
	fn the_result_payload_binds_domain_chain_and_every_field() {
		let m = manifest();
		let a = result_signing_payload(&[1u8; 32], &m);
		assert!(a.starts_with(&RESULT_SIGNING_DOMAIN.encode()));
		assert_ne!(a, result_signing_payload(&[2u8; 32], &m));
		for change in [
			|m: &mut ResultManifest| m.job += 1,
			|m: &mut ResultManifest| m.output_digest[0] ^= 1,
			|m: &mut ResultManifest| m.exit = ExitStatus::Failed { code: 1 },
			|m: &mut ResultManifest| m.usage.wall_ms += 1,
		] {
			let mut changed = m.clone();
			change(&mut changed);
			assert_ne!(a, result_signing_payload(&[1u8; 32], &changed));
		}
		// A result payload is never a manifest payload of the registry.
		assert!(!a.starts_with(&crate::registry::MANIFEST_SIGNING_DOMAIN.encode()));
	}

	#[test]
	fn a_job_may_tighten_verification_but_never_loosen_it() {
		let sampled = |p| VerificationPolicy::Sampled { p: Perbill::from_percent(p) };
		let (none, det) = (VerificationPolicy::None, VerificationPolicy::Deterministic);
		assert_eq!(effective_verification(sampled(10), None), Some(sampled(10)));
		assert_eq!(effective_verification(sampled(10), Some(sampled(50))), Some(sampled(50)));
		assert_eq!(effective_verification(sampled(10), Some(det)), Some(det));
		assert_eq!(effective_verification(sampled(10), Some(sampled(5))), None);
		assert_eq!(effective_verification(det, Some(none)), None);
		assert_eq!(effective_verification(none, Some(none)), Some(none));
	}
}
