//! Lineages: module versions and model versions may derive from a parent version of their
//! kind. What the two kinds share: a child's depth and lineage royalty, the rule that a name's
//! versions go only together with the versions that fork them, and the invariants.
use alloc::collections::btree_map::BTreeMap;
use lilypad_primitives::{
	models::ModelRecord,
	registry::{ModuleName, ModuleRef, SemVer, VersionRecord},
};
use polkadot_sdk::sp_runtime::{traits::Saturating, Perbill};

/// A version with its place in a lineage: a module version or a model version.
pub(crate) trait Lineage {
	fn version(&self) -> SemVer;
	fn parent(&self) -> Option<&ModuleRef>;
	/// Ancestors above it.
	fn depth(&self) -> u32;
	/// Its royalty and all its ancestors'.
	fn lineage_royalty(&self) -> Perbill;
	/// Versions that name it as their parent.
	fn forks(&self) -> u32;
}

impl<AccountId, Balance, BlockNumber> Lineage for VersionRecord<AccountId, Balance, BlockNumber> {
	fn version(&self) -> SemVer {
		self.manifest.version
	}
	fn parent(&self) -> Option<&ModuleRef> {
		self.manifest.parent.as_ref()
	}
	fn depth(&self) -> u32 {
		self.depth
	}
	fn lineage_royalty(&self) -> Perbill {
		self.lineage_royalty
	}
	fn forks(&self) -> u32 {
		self.forks
	}
}

impl<AccountId, BlockNumber> Lineage for ModelRecord<AccountId, BlockNumber> {
	fn version(&self) -> SemVer {
		self.manifest.version
	}
	fn parent(&self) -> Option<&ModuleRef> {
		self.manifest.parent.as_ref()
	}
	fn depth(&self) -> u32 {
		self.depth
	}
	fn lineage_royalty(&self) -> Perbill {
		self.lineage_royalty
	}
	fn forks(&self) -> u32 {
		self.forks
	}
}

/// The depth and lineage royalty of a version with `royalty` under `parent` (a root without
/// one). Perbill addition saturates at 100%, which the cap check refuses unless the cap itself
/// is 100%.
pub(crate) fn descend<R: Lineage>(parent: Option<&R>, royalty: Perbill) -> (u32, Perbill) {
	match parent {
		None => (0, royalty),
		Some(p) => (p.depth().saturating_add(1), p.lineage_royalty().saturating_add(royalty)),
	}
}

/// Whether `records`, all the versions of `name`, are forked only by each other: those forks
/// go with them, forks under other names must go first.
pub(crate) fn forked_only_within<R: Lineage>(name: &ModuleName, records: &[R]) -> bool {
	let mut within = BTreeMap::<SemVer, u32>::new();
	for r in records {
		if let Some(p) = r.parent().filter(|p| p.name == *name) {
			*within.entry(p.version).or_default() += 1;
		}
	}
	records.iter().all(|r| r.forks() == within.get(&r.version()).copied().unwrap_or_default())
}

/// The invariants of one version's place in its lineage: `parent` is the record its manifest
/// names, its depth and lineage royalty follow from it and its own `royalty`, within
/// `max_depth` and `cap`.
#[cfg(any(feature = "try-runtime", test))]
pub(crate) fn check_descent<R: Lineage>(
	record: &R,
	royalty: Perbill,
	parent: Option<&R>,
	max_depth: u32,
	cap: Perbill,
) -> Result<(), &'static str> {
	if record.parent().is_some() && parent.is_none() {
		return Err("a version's parent is missing");
	}
	let (depth, royalty) = descend(parent, royalty);
	if record.depth() != depth {
		return Err("a version's depth is wrong");
	}
	if depth > max_depth {
		return Err("a lineage is too deep");
	}
	if record.lineage_royalty() != royalty {
		return Err("a lineage royalty is wrong");
	}
	if royalty > cap {
		return Err("royalties exceed the cap");
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	struct V {
		version: SemVer,
		parent: Option<ModuleRef>,
		royalty: Perbill,
		depth: u32,
		lineage_royalty: Perbill,
		forks: u32,
	}
	impl Lineage for V {
		fn version(&self) -> SemVer {
			self.version
		}
		fn parent(&self) -> Option<&ModuleRef> {
			self.parent.as_ref()
		}
		fn depth(&self) -> u32 {
			self.depth
		}
		fn lineage_royalty(&self) -> Perbill {
			self.lineage_royalty
		}
		fn forks(&self) -> u32 {
			self.forks
		}
	}
	fn name(s: &str) -> ModuleName {
		s.as_bytes().to_vec().try_into().unwrap()
	}
	fn v(minor: u16, parent: Option<(&str, u16)>, forks: u32) -> V {
		V {
			version: SemVer::new(1, minor, 0),
			parent: parent.map(|(n, m)| ModuleRef { name: name(n), version: SemVer::new(1, m, 0) }),
			royalty: Perbill::from_percent(1),
			depth: 0,
			lineage_royalty: Perbill::from_percent(1),
			forks,
		}
	}

	#[test]
	fn a_child_is_one_deeper_and_adds_its_royalty() {
		let root = v(0, None, 0);
		assert_eq!(descend::<V>(None, Perbill::from_percent(3)), (0, Perbill::from_percent(3)));
		assert_eq!(descend(Some(&root), Perbill::from_percent(3)), (1, Perbill::from_percent(4)));
		let mut rich = v(0, None, 0);
		rich.lineage_royalty = Perbill::from_percent(99);
		assert_eq!(descend(Some(&rich), Perbill::from_percent(3)).1, Perbill::one());
	}

	#[test]
	fn versions_go_together_only_with_their_own_forks() {
		// 1.0 forked by 1.1 (within) and by another name's version (outside).
		let inside = [v(0, None, 1), v(1, Some(("a", 0)), 0)];
		assert!(forked_only_within(&name("a"), &inside));
		let outside = [v(0, None, 2), v(1, Some(("a", 0)), 0)];
		assert!(!forked_only_within(&name("a"), &outside));
		// A parent of the same version under another name is not within.
		let elsewhere = [v(0, None, 0), v(1, Some(("b", 0)), 0)];
		assert!(forked_only_within(&name("a"), &elsewhere));
	}

	#[test]
	fn descent_checks_name_the_broken_rule() {
		let cap = Perbill::from_percent(10);
		let root = v(0, None, 1);
		let mut child = v(1, Some(("a", 0)), 0);
		assert_eq!(
			check_descent(&child, child.royalty, None, 8, cap),
			Err("a version's parent is missing")
		);
		assert_eq!(
			check_descent(&child, child.royalty, Some(&root), 8, cap),
			Err("a version's depth is wrong")
		);
		child.depth = 1;
		assert_eq!(
			check_descent(&child, child.royalty, Some(&root), 0, cap),
			Err("a lineage is too deep")
		);
		assert_eq!(
			check_descent(&child, child.royalty, Some(&root), 8, cap),
			Err("a lineage royalty is wrong")
		);
		child.lineage_royalty = Perbill::from_percent(2);
		assert_eq!(check_descent(&child, child.royalty, Some(&root), 8, cap), Ok(()));
		let tight = Perbill::from_percent(1);
		assert_eq!(
			check_descent(&child, child.royalty, Some(&root), 8, tight),
			Err("royalties exceed the cap")
		);
	}
}
