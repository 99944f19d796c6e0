//! Explicit tags: the YAML core tags (`!!str`, `!!int`, ...) and the CloudFormation short forms
//! (`!Ref`, `!GetAtt`, `!Sub`, ...) the Framework's schema turns into their long JSON forms.

use yaml_rust2::parser::Tag;

/// The CloudFormation intrinsic functions with a short tag, as the Framework's YAML schema lists
/// them; each becomes `{"Fn::<Name>": value}` except `Ref` and `Condition`.
pub const CLOUDFORMATION_FUNCTIONS: [&str; 18] = [
    "And",
    "Base64",
    "Cidr",
    "Condition",
    "Equals",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Ref",
    "Select",
    "Split",
    "Sub",
    "Transform",
];

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// What an explicit tag asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// A CloudFormation short form; holds the long form's key (`Ref`, `Fn::GetAtt`, ...).
    CloudFormation(&'static str),
    Core(CoreTag),
    /// `!` alone: the value is a plain string (or the collection as written).
    NonSpecific,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreTag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Timestamp,
    Binary,
    Map,
    Seq,
    Omap,
    Pairs,
    Set,
}

impl CoreTag {
    /// Whether the tag applies to a scalar (else to a map or a list).
    pub fn wants_scalar(self) -> bool {
        !matches!(
            self,
            CoreTag::Map | CoreTag::Seq | CoreTag::Omap | CoreTag::Pairs | CoreTag::Set
        )
    }

    /// For collection tags: whether it wants a mapping (else a sequence).
    pub fn wants_mapping(self) -> bool {
        matches!(self, CoreTag::Map | CoreTag::Set)
    }
}

/// How a tag reads in the file (`!Ref`, `!!str`, `!<tag:...>`), for messages.
pub fn display(tag: &Tag) -> String {
    if tag.handle == "!" {
        format!("!{}", tag.suffix)
    } else if tag.handle == CORE_PREFIX {
        format!("!!{}", tag.suffix)
    } else if tag.handle.is_empty() {
        format!("!<{}>", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Classifies a tag; `None` for one the Framework does not know.
pub fn classify(tag: &Tag) -> Option<TagKind> {
    let full = format!("{}{}", tag.handle, tag.suffix);
    if full == "!" {
        return Some(TagKind::NonSpecific);
    }
    if let Some(name) = full.strip_prefix(CORE_PREFIX) {
        let core = match name {
            "str" => CoreTag::Str,
            "int" => CoreTag::Int,
            "float" => CoreTag::Float,
            "bool" => CoreTag::Bool,
            "null" => CoreTag::Null,
            "timestamp" => CoreTag::Timestamp,
            "binary" => CoreTag::Binary,
            "map" => CoreTag::Map,
            "seq" => CoreTag::Seq,
            "omap" => CoreTag::Omap,
            "pairs" => CoreTag::Pairs,
            "set" => CoreTag::Set,
            _ => return None,
        };
        return Some(TagKind::Core(core));
    }
    let name = full.strip_prefix('!')?;
    CLOUDFORMATION_FUNCTIONS
        .iter()
        .find(|known| **known == name)
        .map(|known| TagKind::CloudFormation(long_form_key(known)))
}

fn long_form_key(name: &'static str) -> &'static str {
    match name {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "And" => "Fn::And",
        "Base64" => "Fn::Base64",
        "Cidr" => "Fn::Cidr",
        "Equals" => "Fn::Equals",
        "FindInMap" => "Fn::FindInMap",
        "GetAtt" => "Fn::GetAtt",
        "GetAZs" => "Fn::GetAZs",
        "If" => "Fn::If",
        "ImportValue" => "Fn::ImportValue",
        "Join" => "Fn::Join",
        "Not" => "Fn::Not",
        "Or" => "Fn::Or",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "Sub" => "Fn::Sub",
        _ => "Fn::Transform",
    }
}

/// The list of supported tags, for the unknown-tag message.
pub fn supported_list() -> String {
    let short: Vec<String> = CLOUDFORMATION_FUNCTIONS
        .iter()
        .map(|name| format!("!{name}"))
        .collect();
    format!(
        "{}; and the YAML tags !!str, !!int, !!float, !!bool, !!null, !!timestamp, !!binary, !!map, !!seq",
        short.join(", ")
    )
}
