"""The answer object's JSON contract (issue 2: fields may be added, none removed or renamed),
written out here, independently of the library, for the CLI and library tests to check."""

ANSWER_KEYS = {
    "question",
    "answer",
    "abstained",
    "citations",
    "timings_ms",
    "claims",
    "backend",
    "notice",
    "rewritten_question",
}
CITATION_KEYS = {"n", "article_id", "title", "sentence", "text", "start", "end", "score"}
