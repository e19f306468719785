//! What the cluster-policy rules share.

use crate::model::{ClusterPolicy, ClusterRule, RuleSpec};
use crate::netpol::Direction;

/// The rules of `p` per direction, evaluated and as written, with the key of their peers.
pub(super) fn directions(p: &ClusterPolicy) -> [(Direction, &'static str, &[ClusterRule], &[RuleSpec]); 2] {
    [
        (Direction::Ingress, "from", &p.ingress, p.spec.ingress.as_deref().unwrap_or_default()),
        (Direction::Egress, "to", &p.egress, p.spec.egress.as_deref().unwrap_or_default()),
    ]
}
