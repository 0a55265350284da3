//! `closed_set!`: declares a closed set of domain values once, with its database, JSON and OpenAPI forms.
//!
//! Each value's wire spelling appears exactly once, in the declaration. The enum is stored as `text`
//! (the migrations' CHECK constraints list the same spellings), serialised as that string, documented as
//! a string enum, and parsed with an error that lists the allowed values.

/// Declares `pub enum Name { Variant = "spelling", … }` with every form derived from the one list.
#[macro_export]
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema,
        )]
        #[sqlx(type_name = "text")]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                #[schema(rename = $text)]
                #[sqlx(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's spelling in the database and on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::NotInSet;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::domain::NotInSet::new($name::ALL.iter().map(|v| v.as_str())))
            }
        }
    };
}

/// A string outside a closed set; its message lists the allowed values (never the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInSet {
    allowed: String,
}

impl NotInSet {
    pub fn new<'a>(allowed: impl Iterator<Item = &'a str>) -> Self {
        Self {
            allowed: allowed.collect::<Vec<_>>().join(", "),
        }
    }
}

impl std::fmt::Display for NotInSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "must be one of {}", self.allowed)
    }
}

impl std::error::Error for NotInSet {}

#[cfg(test)]
mod tests {
    closed_set! {
        enum Colour {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn every_form_uses_the_one_spelling() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
        assert_eq!(
            serde_json::to_value(Colour::DarkBlue).unwrap(),
            serde_json::json!("dark_blue")
        );
        assert_eq!(
            serde_json::from_value::<Colour>(serde_json::json!("red")).unwrap(),
            Colour::Red
        );
        let err = "Red".parse::<Colour>().unwrap_err();
        assert_eq!(err.to_string(), "must be one of red, dark_blue");
    }
}
