//! Blocks built as a node would build them, shared by the runtime's integration tests.
// Every test crate compiles these helpers and uses only some of them.
#![allow(dead_code)]
pub mod market;
use codec::Encode;
use lilypad_runtime::{
	genesis_config_presets, Executive, Header, Runtime, RuntimeCall, RuntimeGenesisConfig, Supply,
	UncheckedExtrinsic, SLOT_DURATION_MS,
};
use polkadot_sdk::{
	frame_support::assert_ok,
	pallet_babe, pallet_timestamp,
	sp_consensus_babe::{
		digests::{PreDigest, SecondaryVRFPreDigest},
		make_vrf_sign_data, BABE_ENGINE_ID,
	},
	sp_core::crypto::VrfSecret,
	sp_io::TestExternalities,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{
		generic::{Digest, DigestItem},
		traits::Header as _,
		BuildStorage,
	},
};

/// Externalities holding the genesis of `preset`.
pub fn genesis(preset: serde_json::Value) -> TestExternalities {
	let config: RuntimeGenesisConfig =
		serde_json::from_value(preset).expect("preset is a full genesis config");
	config.build_storage().expect("genesis builds").into()
}

pub fn dev_chain() -> TestExternalities {
	genesis(genesis_config_presets::development())
}

/// Starts block `n` the way Alice, the dev chain's BABE authority, would: a secondary VRF
/// pre-digest for slot `n` (the chain allows primary and secondary VRF slots, so every block
/// carries a VRF output, the randomness the jobs pallet draws from), then the timestamp.
pub fn start_block(n: u32, parent: polkadot_sdk::sp_core::H256) {
	let slot = 1_000 + n as u64;
	let sign_data = make_vrf_sign_data(
		&pallet_babe::Randomness::<Runtime>::get(),
		slot.into(),
		pallet_babe::EpochIndex::<Runtime>::get(),
	);
	let pre = PreDigest::SecondaryVRF(SecondaryVRFPreDigest {
		authority_index: 0,
		slot: slot.into(),
		vrf_signature: Sr25519Keyring::Alice.pair().vrf_sign(&sign_data),
	});
	let digest = Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre.encode())] };
	let header = Header::new(n, Default::default(), Default::default(), parent, digest);
	Executive::initialize_block(&header);
	let now = slot * SLOT_DURATION_MS;
	let inherent =
		UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set { now }));
	assert_ok!(Executive::apply_extrinsic(inherent).expect("timestamp applies"));
}

/// Finishes the block and checks the supply invariants, as every test block does.
pub fn finish_block() -> Header {
	let header = Executive::finalize_block();
	Supply::do_try_state().expect("supply invariants hold after every block");
	header
}

/// Runs `f` inside a fresh block after `parent`; returns the block's header.
pub fn in_block<R>(parent: &mut Header, f: impl FnOnce() -> R) -> R {
	start_block(parent.number + 1, parent.hash());
	let out = f();
	*parent = finish_block();
	out
}

pub fn genesis_header() -> Header {
	Header::new(0, Default::default(), Default::default(), Default::default(), Default::default())
}

/// Runs `n` empty blocks after `parent`.
pub fn run_blocks(parent: &mut Header, n: u32) {
	for _ in 0..n {
		in_block(parent, || ());
	}
}
