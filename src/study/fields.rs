//! Reading a section that is not swept (the top level, `[search]`,
//! `[search.halving]`, `[replicates]`, `[report]`, each `[[claims]]`, a
//! `[space]` distribution) from its rows in the key table
//! (`study/sections.rs`): unknown keys are refused with the rows' names,
//! and each value is read by its row's type, range and default. A section's
//! own code asks for its values when it needs them ([`Fields`]), so the
//! rules that tie keys together stay in the order they are checked.

use toml::{Table, Value};

use super::error::{KeyError, key_err};
use super::keys::{Default, Key, Type, Val, When};
use super::resolve::read;
use super::values::{type_name, uint};

/// The rows of one section.
pub struct Section {
    /// Its path in the file (`search.halving`; `""` for the top level);
    /// the docs' marker names it `top` when empty.
    pub path: &'static str,
    /// The refusal of an unknown key: `{name}` and `{known}` are replaced
    /// by the key and the section's keys.
    pub unknown: &'static str,
    /// Whether `--set path.key=value` may set its keys.
    pub set: bool,
    /// Its keys, in the order they are listed.
    pub keys: &'static [Key],
}

impl Section {
    /// The names of its keys, in table order.
    pub fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.name).collect()
    }

    /// The row of `name`; the name must be one of the section's.
    pub fn row(&self, name: &str) -> &'static Key {
        self.keys
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("{name} is not a key of [{}]", self.path))
    }

    /// `t`'s keys checked against the rows; `prefix` is what errors put
    /// before a key (`search.`, `claims[2].`, or nothing).
    pub fn fields<'a>(
        &'static self,
        t: &'a Table,
        prefix: impl Into<String>,
    ) -> Result<Fields<'a>, KeyError> {
        let prefix = prefix.into();
        let known = self.names();
        if let Some(k) = t.keys().find(|k| !known.contains(&k.as_str())) {
            let message = self
                .unknown
                .replace("{name}", k)
                .replace("{known}", &known.join(", "));
            return Err(key_err(format!("{prefix}{k}"), message));
        }
        Ok(Fields {
            section: self,
            t,
            prefix,
        })
    }

    /// Like [`Section::fields`] for a value that must be a table; `None`
    /// when the section is absent.
    pub fn table<'a>(&'static self, v: Option<&'a Value>) -> Result<Option<Fields<'a>>, KeyError> {
        match v {
            None => Ok(None),
            Some(Value::Table(t)) => self.fields(t, format!("{}.", self.path)).map(Some),
            Some(other) => Err(key_err(
                self.path,
                format!("expected a table, got {}", type_name(other)),
            )),
        }
    }
}

/// A section's table, its keys checked: values are read on request.
pub struct Fields<'a> {
    section: &'static Section,
    t: &'a Table,
    prefix: String,
}

impl<'a> Fields<'a> {
    /// The key as errors name it: `search.samples`, `claims[0].alpha`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The value as written, if given.
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.section.row(name);
        self.t.get(name)
    }

    /// Whether the study gives `name`.
    pub fn given(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// The value of `name` read by its row: as given, else its default;
    /// `None` when unset; an error when required and missing.
    pub fn get(&self, name: &str) -> Result<Option<Val>, KeyError> {
        let row = self.section.row(name);
        match (self.t.get(name), &row.default) {
            (Some(v), _) => read(&row.ty, v)
                .map(Some)
                .map_err(|m| key_err(self.key(name), m)),
            (None, Default::Is(x)) => Ok(Some(x.clone())),
            (None, Default::Required(why)) => Err(key_err(self.key(name), *why)),
            (None, Default::Unset(_)) => Ok(None),
            (None, Default::By(..)) => panic!("{name}: sections compute no defaults"),
        }
    }

    /// An integer key, read against its row's minimum and `max` instead of
    /// the row's (a range the rest of the study decides); `hint` follows a
    /// range error.
    pub fn int_to(&self, name: &str, max: usize, hint: &str) -> Result<Option<usize>, KeyError> {
        let Type::Int { min, .. } = self.section.row(name).ty else {
            panic!("{name} is not an integer key");
        };
        match self.t.get(name) {
            Some(v) => uint(v, min, max)
                .map(Some)
                .map_err(|m| key_err(self.key(name), format!("{m}{hint}"))),
            None => self.get(name).map(|v| v.map(|v| int_of(name, v))),
        }
    }

    /// An integer key that has a value (given or default).
    pub fn int(&self, name: &str) -> Result<usize, KeyError> {
        self.need(name).map(|v| int_of(name, v))
    }

    /// A number key that has a value.
    pub fn float(&self, name: &str) -> Result<f64, KeyError> {
        match self.need(name)? {
            Val::Float(x) => Ok(x),
            other => panic!("{name}: expected a number, got {other:?}"),
        }
    }

    /// A flag key that has a value.
    pub fn flag(&self, name: &str) -> Result<bool, KeyError> {
        match self.need(name)? {
            Val::Bool(b) => Ok(b),
            other => panic!("{name}: expected a flag, got {other:?}"),
        }
    }

    /// A choice key's option, from the enum's (name, value) list the row's
    /// names come from.
    pub fn choice<T: Copy>(&self, name: &str, options: &[(&str, T)]) -> Result<T, KeyError> {
        let picked = match self.need(name)? {
            Val::Name(n) => n,
            other => panic!("{name}: expected a name, got {other:?}"),
        };
        Ok(options
            .iter()
            .find(|(n, _)| *n == picked)
            .unwrap_or_else(|| panic!("{name}: {picked} is not an option"))
            .1)
    }

    /// A text key, if given (or defaulted).
    pub fn text(&self, name: &str) -> Result<Option<String>, KeyError> {
        match self.get(name)? {
            None => Ok(None),
            Some(Val::Text(s)) => Ok(Some(s)),
            Some(Val::Name(s)) => Ok(Some(s.to_string())),
            Some(other) => panic!("{name}: expected text, got {other:?}"),
        }
    }

    /// Refuse a key given where its row says it does not apply: its
    /// deciding key (of this section) lacks the row's names, or is not
    /// given. Rows are checked in table order.
    pub fn check_applies(&self) -> Result<(), KeyError> {
        for row in self.section.keys {
            let Some(a) = row.applies.as_ref().filter(|_| self.given(row.name)) else {
                continue;
            };
            let message = match a.when {
                When::Named(names) => {
                    let decided = self.text(a.decider)?;
                    if decided.is_some_and(|d| names.contains(&d.as_str())) {
                        continue;
                    }
                    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                    format!(
                        "applies to {} = {}; {}",
                        a.decider,
                        quoted.join(" or "),
                        a.why
                    )
                }
                When::Given if self.given(a.decider) => continue,
                When::Given => a.why.to_string(),
                When::Resolved(_) => panic!("{}: a section key decided by resolved keys", row.name),
            };
            return Err(key_err(self.key(row.name), message));
        }
        Ok(())
    }

    fn need(&self, name: &str) -> Result<Val, KeyError> {
        Ok(self
            .get(name)?
            .unwrap_or_else(|| panic!("{name} has no default; read it with get")))
    }
}

fn int_of(name: &str, v: Val) -> usize {
    match v {
        Val::Int(i) => i,
        other => panic!("{name}: expected an integer, got {other:?}"),
    }
}
