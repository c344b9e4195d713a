//! Categories and tags as Jekyll combines them (`Document#merge_categories!`,
//! `#populate_categories`, `#populate_tags`, `Utils.pluralized_array_from_hash`).

use crate::yaml::Yaml;

pub struct Terms {
    pub categories: Vec<String>,
    pub entry_categories: Vec<String>,
    pub tags: Vec<String>,
    pub warnings: Vec<String>,
}

impl Terms {
    pub fn from_front_matter(fm: &Yaml, folder_categories: &[String]) -> Terms {
        let mut warnings = Vec::new();
        let plural_categories = plural(fm.get("categories"), "categories", &mut warnings);
        let singular_category = fm.get("category").and_then(singular);
        // Folder categories, then `categories`, then `category` (or `categories` again).
        let mut categories: Vec<String> = folder_categories.to_vec();
        categories.extend(plural_categories.iter().cloned());
        match &singular_category {
            Some(c) => categories.extend(c.iter().cloned()),
            None => categories.extend(plural_categories.iter().cloned()),
        }
        let categories = dedup(categories);
        let entry_categories = match singular_category {
            Some(c) => dedup(c),
            None => categories.clone(),
        };
        // A singular `tag` replaces `tags`.
        let tags = match fm.get("tag").and_then(singular) {
            Some(t) => t,
            None => plural(fm.get("tags"), "tags", &mut warnings),
        };
        Terms {
            categories,
            entry_categories,
            tags: dedup(tags),
            warnings,
        }
    }
}

/// The singular key: one value, never split (a list is flattened).
fn singular(value: &Yaml) -> Option<Vec<String>> {
    match value {
        Yaml::Null => None,
        Yaml::Seq(items) => Some(flatten(items)),
        other => Some(vec![other.to_ruby_string()]),
    }
}

/// The plural key: a string is split on whitespace, a list loses its nulls.
fn plural(value: Option<&Yaml>, key: &str, warnings: &mut Vec<String>) -> Vec<String> {
    match value {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::Str(s)) => s.split_ascii_whitespace().map(str::to_string).collect(),
        Some(Yaml::Seq(items)) => flatten(items),
        Some(Yaml::Map(_)) => {
            warnings.push(format!("`{key}` is a mapping and is ignored; write a list"));
            Vec::new()
        }
        Some(other) if key == "categories" => {
            // Jekyll refuses the whole front matter here; one category is clearly meant.
            vec![other.to_ruby_string()]
        }
        Some(other) => {
            warnings.push(format!(
                "`{key}: {}` is not a string or list, so Jekyll ignores it (quote it)",
                other.to_ruby_string()
            ));
            Vec::new()
        }
    }
}

fn flatten(items: &[Yaml]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Yaml::Null => {}
            Yaml::Seq(inner) => out.extend(flatten(inner)),
            other => out.push(other.to_ruby_string()),
        }
    }
    out
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}
