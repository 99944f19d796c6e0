//! How a plan looks: one line per changing resource with a sign (`+` create, `~` update, `-/+`
//! replace, `-` delete), the changed fields as `old -> new` under it, and a count line, as
//! Terraform shows plans. Values that are objects are compared key by key, so a changed
//! environment variable shows alone rather than as two whole maps. `--json` gives the same plan
//! as data.

use serde_json::{json, Value as Json};

use crate::plan::{Action, Counts, FieldChange, Plan, Planned, Step};

/// The plan as text, without the unchanged resources (with `verbose`, a create lists its
/// properties too).
pub fn render(plan: &Plan, verbose: bool) -> String {
    let mut out = String::new();
    for step in plan.steps.iter().filter(|s| s.action.is_change()) {
        out.push_str(&format!(
            "  {:<3} {} {}\n",
            sign(step.action),
            step.id.kind,
            step.id.name
        ));
        if step.action == Action::Create && !verbose {
            continue;
        }
        for change in &step.changes {
            for line in change_lines(change) {
                out.push_str(&format!("        {line}\n"));
            }
        }
    }
    out.push_str(&summary(plan.counts()));
    out.push('\n');
    out
}

/// `Plan: 1 to create, 2 to update, 0 to replace, 0 to delete, 14 unchanged.`
pub fn summary(counts: Counts) -> String {
    if counts.create + counts.update + counts.replace + counts.delete == 0 {
        let noun = if counts.no_op == 1 {
            "resource is"
        } else {
            "resources are"
        };
        return format!("No changes: {} {noun} up to date.", counts.no_op);
    }
    format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
        counts.create, counts.update, counts.replace, counts.delete, counts.no_op
    )
}

pub fn sign(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
        Action::NoOp => " ",
    }
}

/// The plan as data: every step with its action, changes and dependencies, and the counts.
pub fn to_json(plan: &Plan) -> Json {
    let steps: Vec<Json> = plan.steps.iter().map(step_json).collect();
    json!({
        "changes": plan.has_changes(),
        "counts": plan.counts(),
        "steps": steps,
    })
}

fn step_json(step: &Step) -> Json {
    json!({
        "kind": step.id.kind,
        "name": step.id.name,
        "action": step.action.name(),
        "changes": step.changes.iter().map(|c| json!({
            "field": c.field,
            "old": planned_json(&c.old),
            "new": planned_json(&c.new),
            "forces_replace": c.forces_replace,
        })).collect::<Vec<_>>(),
        "depends_on": step.depends_on.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn planned_json(value: &Planned) -> Json {
    match value {
        Planned::Absent => Json::Null,
        Planned::Known(value) => value.clone(),
        Planned::AfterApply => json!("(known after apply)"),
    }
}

/// `field: old -> new`, or one line per changed key when both sides are objects.
fn change_lines(change: &FieldChange) -> Vec<String> {
    let suffix = if change.forces_replace {
        " (forces replacement)"
    } else {
        ""
    };
    let mut lines = Vec::new();
    match (&change.old, &change.new) {
        (Planned::Known(Json::Object(old)), Planned::Known(Json::Object(new))) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (before, after) = (old.get(key), new.get(key));
                if before != after {
                    lines.push(format!(
                        "{}.{key}: {} -> {}{suffix}",
                        change.field,
                        value_text(before),
                        value_text(after)
                    ));
                }
            }
        }
        (old, new) => lines.push(format!(
            "{}: {} -> {}{suffix}",
            change.field,
            planned_text(old),
            planned_text(new)
        )),
    }
    lines
}

fn planned_text(value: &Planned) -> String {
    match value {
        Planned::Absent => "(none)".to_string(),
        Planned::Known(value) => value_text(Some(value)),
        Planned::AfterApply => "(known after apply)".to_string(),
    }
}

fn value_text(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => "(none)".to_string(),
        Some(value) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResourceId;
    use std::collections::BTreeSet;

    fn step(action: Action, changes: Vec<FieldChange>) -> Step {
        Step {
            id: ResourceId::new("aws.lambda.function", "svc-dev-hello"),
            action,
            changes,
            depends_on: BTreeSet::new(),
            desired: None,
            live: None,
        }
    }

    #[test]
    fn a_changed_environment_variable_shows_alone() {
        let change = FieldChange {
            field: "environment".into(),
            old: Planned::Known(json!({"A": "1", "B": "2"})),
            new: Planned::Known(json!({"A": "1", "B": "3", "C": "4"})),
            forces_replace: false,
        };
        let text = render(
            &Plan {
                steps: vec![step(Action::Update, vec![change])],
            },
            false,
        );
        assert!(
            text.contains("~   aws.lambda.function svc-dev-hello"),
            "{text}"
        );
        assert!(text.contains("environment.B: \"2\" -> \"3\""), "{text}");
        assert!(text.contains("environment.C: (none) -> \"4\""), "{text}");
        assert!(!text.contains("environment.A"), "{text}");
        assert!(text.contains("Plan: 0 to create, 1 to update"), "{text}");
    }

    #[test]
    fn an_unchanged_plan_says_so() {
        let text = render(
            &Plan {
                steps: vec![step(Action::NoOp, vec![])],
            },
            false,
        );
        assert_eq!(text, "No changes: 1 resource is up to date.\n");
    }
}
