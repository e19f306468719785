//! What the environment (`NR5xx`) rules share. A rule file uses these; it never uses another rule file.

use k8s_openapi::api::core::v1::Container;

use crate::model::Workload;

/// Every container of `w` (init containers too) with its field path relative to the object.
pub(super) fn containers(w: &Workload) -> Vec<(String, &Container)> {
    let main = w.spec.containers.iter().enumerate().map(|(i, c)| (w.template_field(&format!("spec.containers[{i}]")), c));
    let init = w.spec.init_containers.iter().flatten().enumerate().map(|(i, c)| (w.template_field(&format!("spec.initContainers[{i}]")), c));
    main.chain(init).collect()
}

/// The field path of the last `env` entry named `name` in a container at `base`.
pub(super) fn env_path(base: &str, c: &Container, name: &str) -> Option<String> {
    let i = c.env.as_deref()?.iter().rposition(|e| e.name == name)?;
    Some(format!("{base}.env[{i}]"))
}
