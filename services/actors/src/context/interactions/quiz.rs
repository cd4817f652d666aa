//! Quiz questions: 2 to 5 answers, at least one correct; a voter may choose several
//! when several are correct. Scoring: an answer earns 1,000 points × (correct answers
//! chosen − wrong answers chosen) / correct answers, never below 0 — all correct and
//! nothing wrong is 1,000; a single-answer question scores 1,000 or 0.

use plenary_proto::v1::events::QuizSpec;

use super::poll::{check_choice, check_options, check_question};
use crate::context::command::Rejection;

/// Points for a fully correct answer.
pub const FULL_POINTS: u32 = 1_000;

pub fn validate(quiz: &QuizSpec) -> Result<(), Rejection> {
    check_question("question", &quiz.question)?;
    check_options(&quiz.options)?;
    if quiz.correct.is_empty() {
        return Err(Rejection::BadRequest(
            "a quiz question needs at least one correct answer".into(),
        ));
    }
    check_choice(quiz.options.len(), true, &quiz.correct)
        .map_err(|e| Rejection::BadRequest(format!("correct answers: {e}")))
}

pub fn check_vote(quiz: &QuizSpec, chosen: &[u32]) -> Result<(), Rejection> {
    check_choice(quiz.options.len(), quiz.correct.len() > 1, chosen)
}

/// The points an answer scores.
pub fn points(quiz: &QuizSpec, chosen: &[u32]) -> u32 {
    let right = chosen.iter().filter(|o| quiz.correct.contains(o)).count() as i64;
    let wrong = chosen.len() as i64 - right;
    let correct = quiz.correct.len().max(1) as i64;
    ((right - wrong).max(0) * i64::from(FULL_POINTS) / correct) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz(correct: &[u32]) -> QuizSpec {
        QuizSpec {
            question: "2 + 2?".into(),
            options: vec!["3".into(), "4".into(), "four".into(), "5".into()],
            correct: correct.to_vec(),
            show_correct: true,
            share_results: false,
        }
    }

    #[test]
    fn a_quiz_needs_a_correct_answer_among_its_options() {
        assert!(validate(&quiz(&[1])).is_ok());
        assert!(validate(&quiz(&[0, 1, 2, 3])).is_ok(), "all may be correct");
        assert_eq!(
            validate(&quiz(&[])),
            Err(Rejection::BadRequest(
                "a quiz question needs at least one correct answer".into()
            ))
        );
        assert!(validate(&quiz(&[4])).is_err());
        assert!(validate(&quiz(&[1, 1])).is_err());
    }

    #[test]
    fn scoring_rewards_right_answers_and_takes_off_for_wrong_ones() {
        let single = quiz(&[1]);
        assert!(check_vote(&single, &[1, 2]).is_err(), "one answer");
        assert_eq!(points(&single, &[1]), 1_000);
        assert_eq!(points(&single, &[0]), 0);
        let double = quiz(&[1, 2]);
        assert!(check_vote(&double, &[1, 2]).is_ok());
        assert_eq!(points(&double, &[1, 2]), 1_000);
        assert_eq!(points(&double, &[1]), 500);
        assert_eq!(points(&double, &[1, 3]), 0);
        assert_eq!(points(&double, &[0, 3]), 0, "never below 0");
    }
}
