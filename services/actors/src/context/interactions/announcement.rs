//! Announcements: an optional title, a text and an optional call-to-action button. No
//! votes. The button's URL is `http` or `https` only: `javascript:` and the like would
//! run in every attendee's page.

use plenary_proto::v1::events::AnnouncementSpec;

use crate::context::{command::Rejection, updates::MAX_UPDATE_TITLE_CHARS};

/// Longest call-to-action label, in characters, and URL, in bytes.
pub const MAX_CTA_LABEL_CHARS: usize = 40;
pub const MAX_CTA_URL_BYTES: usize = 2_000;

pub fn validate(a: &AnnouncementSpec, max_text_chars: usize) -> Result<(), Rejection> {
    if a.title.chars().count() > MAX_UPDATE_TITLE_CHARS {
        return Err(Rejection::BadRequest(format!(
            "the title is longer than {MAX_UPDATE_TITLE_CHARS} characters"
        )));
    }
    if a.text.trim().is_empty() || a.text.chars().count() > max_text_chars {
        return Err(Rejection::InvalidText {
            max: max_text_chars,
        });
    }
    match (a.cta_label.is_empty(), a.cta_url.is_empty()) {
        (true, true) => Ok(()),
        (false, false) => {
            if a.cta_label.trim().is_empty() || a.cta_label.chars().count() > MAX_CTA_LABEL_CHARS {
                return Err(Rejection::BadRequest(format!(
                    "the button label must be 1 to {MAX_CTA_LABEL_CHARS} characters"
                )));
            }
            check_url(&a.cta_url)
        }
        _ => Err(Rejection::BadRequest(
            "a call-to-action button needs both a label and a URL".into(),
        )),
    }
}

/// An absolute `http://` or `https://` URL with a host, no white space or controls.
pub fn check_url(url: &str) -> Result<(), Rejection> {
    let bad = || {
        Err(Rejection::BadRequest(format!(
            "the button URL must be an http:// or https:// address of at most {MAX_CTA_URL_BYTES} bytes"
        )))
    };
    if url.len() > MAX_CTA_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return bad();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with('@') {
        return bad();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(label: &str, url: &str) -> AnnouncementSpec {
        AnnouncementSpec {
            title: "Mid-webinar alert!".into(),
            text: "Get your questions ready".into(),
            cta_label: label.into(),
            cta_url: url.into(),
        }
    }

    #[test]
    fn only_http_and_https_buttons_are_accepted() {
        assert!(validate(&with("", ""), 2000).is_ok());
        assert!(validate(&with("Register", "https://example.com/x?y=1"), 2000).is_ok());
        assert!(validate(&with("Go", "HTTP://EXAMPLE.COM"), 2000).is_ok());
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "//example.com",
            "https://",
            "https:// example.com",
            "ftp://example.com",
        ] {
            assert!(validate(&with("Go", url), 2000).is_err(), "{url}");
        }
        assert!(
            validate(&with("Go", ""), 2000).is_err(),
            "label without URL"
        );
        assert!(validate(&with(&"x".repeat(41), "https://e.com"), 2000).is_err());
        let mut blank = with("", "");
        blank.text = " ".into();
        assert_eq!(
            validate(&blank, 2000),
            Err(Rejection::InvalidText { max: 2000 })
        );
    }
}
