//! What providers and mediators sign on this chain: the payloads of results and re-runs, bound
//! to the genesis hash so that a signature is valid on one chain only.
use crate::*;

impl<T: Config> Pallet<T> {
	/// This chain's genesis hash, which every signed payload names.
	pub(crate) fn genesis_hash() -> T::Hash {
		frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
	}

	/// The bytes a provider signs for `manifest`, run with the weights `models`, on this chain.
	pub fn result_payload(manifest: &ResultManifest, models: &[Digest]) -> Vec<u8> {
		result_signing_payload(&Self::genesis_hash(), manifest, models)
	}

	/// The bytes a mediator signs for its re-run `rerun` on this chain.
	pub fn mediation_payload(rerun: &ResultManifest) -> Vec<u8> {
		mediation_signing_payload(&Self::genesis_hash(), rerun)
	}
}
