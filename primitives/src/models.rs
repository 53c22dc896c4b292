//! Models in the registry: weights pinned by content, with a licence, a royalty and a lineage
//! (docs/design.md §2).
//!
//! A model is a registry asset of its own, beside modules: one inference module serves many
//! models, and many modules share one model. A module version names the models it needs
//! ([`crate::registry::VersionManifest::models`]); every job on it pays each model's owner,
//! and the owners up each model's lineage, their royalty.
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	sp_core::{sr25519, ConstU32},
	sp_runtime::{BoundedVec, Perbill},
};
use scale_info::TypeInfo;

use alloc::vec::Vec;

use crate::registry::{is_valid_slug, Digest, ModuleName, ModuleRef, SemVer};

/// Longest SPDX licence identifier, in bytes.
pub const MAX_LICENCE_LEN: u32 = 64;
/// Most models one module version needs.
pub const MAX_MODULE_MODELS: u32 = 4;
/// Most models one `models` runtime API call returns.
pub const MAX_MODELS_PAGE: u32 = 100;

/// Domain tag of a signed model manifest, apart from a module version's.
pub const MODEL_SIGNING_DOMAIN: &[u8] = b"lilypad/registry/model/v1";

/// A model's name: a lowercase slug, like a module's.
pub type ModelName = ModuleName;
/// `model@version`: what a module version needs and what a derived model names as its parent.
pub type ModelRef = ModuleRef;
/// The models a module version needs, each mounted read-only for every run.
pub type ModelRefs = BoundedVec<ModelRef, ConstU32<MAX_MODULE_MODELS>>;
/// An SPDX licence identifier or expression (`Apache-2.0`, `MIT OR Apache-2.0`).
pub type Licence = BoundedVec<u8, ConstU32<MAX_LICENCE_LEN>>;

/// How the weights blob is laid out for a run.
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
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum WeightsLayout {
	/// One file, mounted as `/models/<name>/weights.<format>` (`weights.gguf`).
	File,
	/// A canonical tar of several files (weights, tokenizer, configs), unpacked and mounted as
	/// the directory `/models/<name>`.
	Directory,
}

/// The file format of the weights.
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
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum WeightsFormat {
	Gguf,
	Safetensors,
	Onnx,
}

impl WeightsFormat {
	/// The file extension of a weights file of this format.
	pub fn extension(self) -> &'static str {
		match self {
			Self::Gguf => "gguf",
			Self::Safetensors => "safetensors",
			Self::Onnx => "onnx",
		}
	}

	/// Parses the name `lilypad-model.toml` uses (`gguf`, `safetensors`, `onnx`).
	pub fn parse(s: &str) -> Option<Self> {
		[Self::Gguf, Self::Safetensors, Self::Onnx].into_iter().find(|f| f.extension() == s)
	}
}

/// A model's weights: one blob, pinned by content so that every provider runs the same bytes.
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
pub struct Weights {
	/// blake3 of the blob (the file, or the canonical tar).
	pub digest: Digest,
	/// Its size in bytes: a provider knows what it fetches, and refuses more.
	pub size: u64,
	pub layout: WeightsLayout,
	pub format: WeightsFormat,
}

/// Everything the publisher of a model version attests to; the signed part of a model version.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ModelManifest {
	pub model: ModelName,
	pub version: SemVer,
	pub weights: Weights,
	/// The SPDX licence the weights are published under.
	pub licence: Licence,
	/// The share of the price of every job that uses this version paid to the model's owner.
	pub royalty: Perbill,
	/// The model this one derives from (a fine-tune, a quantization, a merge); it and its own
	/// ancestors earn royalties too.
	pub parent: Option<ModelRef>,
}

/// The bytes a publisher signs for a model version: domain tag, the chain's genesis hash and
/// the SCALE-encoded manifest.
pub fn model_signing_payload<Hash: Encode>(
	genesis_hash: &Hash,
	manifest: &ModelManifest,
) -> Vec<u8> {
	(MODEL_SIGNING_DOMAIN, genesis_hash, manifest).encode()
}

/// A published model version as the chain keeps it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct ModelRecord<AccountId, BlockNumber> {
	/// What the publisher signed.
	pub manifest: ModelManifest,
	/// The account whose key signed the manifest: the owner or one of its delegates.
	pub publisher: AccountId,
	/// The publisher's sr25519 signature over [`model_signing_payload`].
	pub signature: sr25519::Signature,
	pub published_at: BlockNumber,
	/// Ancestors above this version (0 without a parent).
	pub depth: u32,
	/// This version's royalty plus all its ancestors'.
	pub lineage_royalty: Perbill,
	/// Module versions that need this model version; it stays while any do.
	pub modules: u32,
	/// Jobs that use this version and have not settled; it stays while any do.
	pub active_jobs: u32,
	/// Model versions that name this one as their parent; it stays while any do.
	pub forks: u32,
}

/// A model with all its versions, as the `lilypad_model` RPC returns it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ModelInfo<AccountId, Balance, BlockNumber> {
	pub name: ModelName,
	pub owner: AccountId,
	/// Held from the owner until the model is retired.
	pub deposit: Balance,
	/// Oldest first.
	pub versions: Vec<ModelRecord<AccountId, BlockNumber>>,
}

/// Why a model manifest is refused, before any chain state is consulted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelError {
	/// The model name is not a lowercase slug.
	InvalidModelName,
	/// Weights of zero bytes.
	EmptyWeights,
	/// The licence is not an SPDX identifier or expression.
	InvalidLicence,
	/// The model names one of its own versions, or itself, as its parent.
	OwnParent,
}

/// Whether `licence` reads as an SPDX identifier or expression: words of `A-Za-z0-9.-+`
/// (`Apache-2.0`, `LicenseRef-x`) joined by `AND`, `OR` or `WITH`, optionally in parentheses.
/// The list of identifiers is SPDX's to keep; the chain checks the form, so that a licence is
/// always one a tool can read.
pub fn is_valid_licence(licence: &[u8]) -> bool {
	let Ok(text) = core::str::from_utf8(licence) else { return false };
	let words: Vec<&str> = text.split(' ').collect();
	if words.iter().any(|w| w.is_empty()) {
		return false;
	}
	let mut depth = 0i32;
	let mut want_id = true;
	for word in words {
		let core = word.trim_start_matches('(');
		depth += (word.len() - core.len()) as i32;
		let id = core.trim_end_matches(')');
		let closes = (core.len() - id.len()) as i32;
		let operator = matches!(id, "AND" | "OR" | "WITH");
		if want_id {
			let valid = !operator
				&& !id.is_empty()
				&& id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b))
				&& id.as_bytes()[0].is_ascii_alphanumeric();
			if !valid {
				return false;
			}
		} else if !operator || closes > 0 || core.len() != word.len() {
			return false;
		}
		depth -= closes;
		if depth < 0 {
			return false;
		}
		want_id = !want_id;
	}
	!want_id && depth == 0
}

/// Checks a model manifest on its own: name, weights, licence and parent.
pub fn check_model_manifest(m: &ModelManifest) -> Result<(), ModelError> {
	if !is_valid_slug(&m.model) {
		return Err(ModelError::InvalidModelName);
	}
	if m.weights.size == 0 {
		return Err(ModelError::EmptyWeights);
	}
	if !is_valid_licence(&m.licence) {
		return Err(ModelError::InvalidLicence);
	}
	if m.parent.as_ref().is_some_and(|p| p.name == m.model) {
		return Err(ModelError::OwnParent);
	}
	Ok(())
}

/// Whether a module version's list of models names each model at most once: two versions of
/// one model would be mounted at the same `/models/<name>`.
pub fn models_are_distinct(models: &[ModelRef]) -> bool {
	models.iter().enumerate().all(|(i, m)| models[..i].iter().all(|n| n.name != m.name))
}

/// The mount point of a model in a run.
#[cfg(feature = "std")]
pub fn mount_point(model: &ModelName) -> String {
	format!("/models/{}", String::from_utf8_lossy(model))
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Reads of the model registry, behind the `lilypad_model` and `lilypad_models` RPCs.
	pub trait ModelsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A model and all its versions.
		fn model(name: ModelName) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;
		/// Up to `limit` models (at most [`MAX_MODELS_PAGE`]) after `start_after`, in a stable
		/// order; pass the last name of a page to get the next.
		fn models(
			start_after: Option<ModelName>,
			limit: u32,
		) -> Vec<ModelInfo<AccountId, Balance, BlockNumber>>;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn manifest() -> ModelManifest {
		ModelManifest {
			model: b"smollm2-135m-instruct".to_vec().try_into().unwrap(),
			version: SemVer::new(1, 0, 0),
			weights: Weights {
				digest: [7; 32],
				size: 270_000_000,
				layout: WeightsLayout::File,
				format: WeightsFormat::Gguf,
			},
			licence: b"Apache-2.0".to_vec().try_into().unwrap(),
			royalty: Perbill::from_percent(2),
			parent: None,
		}
	}

	#[test]
	fn licences_are_spdx_expressions() {
		for good in [
			"Apache-2.0",
			"MIT",
			"CC-BY-4.0",
			"GPL-2.0+",
			"MIT OR Apache-2.0",
			"(MIT OR Apache-2.0) AND BSD-3-Clause",
			"GPL-2.0-only WITH Classpath-exception-2.0",
			"LicenseRef-llama3",
		] {
			assert!(is_valid_licence(good.as_bytes()), "{good}");
		}
		for bad in [
			"",
			" ",
			"MIT  OR Apache-2.0",
			"MIT OR",
			"OR MIT",
			"MIT Apache-2.0",
			"(MIT",
			"MIT)",
			"MIT OR (Apache-2.0",
			"-MIT",
			"MIT/X11",
			"MIT\n",
			"Apache 2.0",
		] {
			assert!(!is_valid_licence(bad.as_bytes()), "{bad:?}");
		}
	}

	#[test]
	fn model_checks_name_each_broken_rule() {
		assert_eq!(check_model_manifest(&manifest()), Ok(()));
		let mut m = manifest();
		m.model = b"SmolLM".to_vec().try_into().unwrap();
		assert_eq!(check_model_manifest(&m), Err(ModelError::InvalidModelName));
		let mut m = manifest();
		m.weights.size = 0;
		assert_eq!(check_model_manifest(&m), Err(ModelError::EmptyWeights));
		let mut m = manifest();
		m.licence = b"Apache 2".to_vec().try_into().unwrap();
		assert_eq!(check_model_manifest(&m), Err(ModelError::InvalidLicence));
		let mut m = manifest();
		m.parent = Some(ModelRef { name: m.model.clone(), version: SemVer::new(0, 9, 0) });
		assert_eq!(check_model_manifest(&m), Err(ModelError::OwnParent));
	}

	#[test]
	fn a_module_names_each_model_once() {
		let a = ModelRef::parse("a@1.0.0").unwrap();
		let b = ModelRef::parse("b@1.0.0").unwrap();
		let a2 = ModelRef::parse("a@2.0.0").unwrap();
		assert!(models_are_distinct(&[a.clone(), b.clone()]));
		assert!(!models_are_distinct(&[a, b, a2]));
	}

	#[test]
	fn signing_payload_is_apart_from_a_module_versions() {
		let m = manifest();
		let a = model_signing_payload(&[1u8; 32], &m);
		assert!(a.starts_with(&MODEL_SIGNING_DOMAIN.encode()));
		assert_ne!(MODEL_SIGNING_DOMAIN, crate::registry::MANIFEST_SIGNING_DOMAIN);
		assert_ne!(a, model_signing_payload(&[2u8; 32], &m));
		let mut changed = m.clone();
		changed.weights.digest[0] ^= 1;
		assert_ne!(a, model_signing_payload(&[1u8; 32], &changed));
	}
}
