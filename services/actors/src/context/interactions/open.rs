//! Open-ended questions: free-text answers, and the word counts of a word cloud (words
//! of 3 or more characters, lower-cased, English stop words dropped: the NLTK list of
//! connector words, from the `stop-words` crate).

use std::{
    collections::{BTreeMap, HashSet},
    sync::OnceLock,
};

use plenary_proto::v1::{WordCount, events::OpenQuestionSpec};

use super::poll::check_question;
use crate::context::command::Rejection;

/// Longest answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 500;
/// Words a tally shows.
pub const TOP_WORDS: usize = 50;
/// Distinct words counted per question (memory bound); later new words are not counted.
pub const MAX_DISTINCT_WORDS: usize = 10_000;
/// Latest answers a view shows.
pub const RECENT_ANSWERS: usize = 100;

pub fn validate(open: &OpenQuestionSpec) -> Result<(), Rejection> {
    check_question("question", &open.question)
}

pub fn check_vote(options: &[u32], rating: u32, text: &str) -> Result<(), Rejection> {
    if !options.is_empty() || rating != 0 {
        return Err(Rejection::BadRequest(
            "an open-ended question takes a text, no options or rating".into(),
        ));
    }
    if text.trim().is_empty() || text.chars().count() > MAX_ANSWER_CHARS {
        return Err(Rejection::InvalidText {
            max: MAX_ANSWER_CHARS,
        });
    }
    Ok(())
}

fn stop_words() -> &'static HashSet<&'static str> {
    static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        stop_words::get(stop_words::LANGUAGE::English)
            .iter()
            .copied()
            .collect()
    })
}

/// The words of an answer that count: 3 or more characters, lower-cased, no stop word.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.chars().count() >= 3 && !stop_words().contains(w.as_str()))
}

/// Counts an answer's words into `counts`.
pub fn count(counts: &mut BTreeMap<String, u32>, text: &str) {
    for word in words(text) {
        if let Some(n) = counts.get_mut(&word) {
            *n += 1;
        } else if counts.len() < MAX_DISTINCT_WORDS {
            counts.insert(word, 1);
        }
    }
}

/// The most frequent words, most frequent first (ties alphabetical).
pub fn top(counts: &BTreeMap<String, u32>) -> Vec<WordCount> {
    let mut all: Vec<(&String, &u32)> = counts.iter().collect();
    all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    all.into_iter()
        .take(TOP_WORDS)
        .map(|(word, &count)| WordCount {
            word: word.clone(),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_cloud_counts_words_of_three_or_more_characters_without_stop_words() {
        let mut counts = BTreeMap::new();
        count(&mut counts, "The demo was GREAT, the demo!");
        count(&mut counts, "great pace; and it's a go");
        let top = top(&counts);
        let pairs: Vec<(&str, u32)> = top.iter().map(|w| (w.word.as_str(), w.count)).collect();
        assert_eq!(pairs, [("demo", 2), ("great", 2), ("pace", 1)]);
    }

    #[test]
    fn an_answer_is_text_only() {
        assert!(check_vote(&[], 0, "Fine").is_ok());
        assert!(check_vote(&[0], 0, "Fine").is_err());
        assert_eq!(
            check_vote(&[], 0, "  "),
            Err(Rejection::InvalidText { max: 500 })
        );
        assert!(check_vote(&[], 0, &"x".repeat(501)).is_err());
    }
}
