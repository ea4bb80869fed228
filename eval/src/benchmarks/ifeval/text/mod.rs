//! Text utilities the instruction checkers share, each mirroring the library the reference
//! uses: Python `str` semantics ([`py`]), Punkt sentence splitting ([`punkt`], NLTK),
//! `nltk.word_tokenize` ([`treebank`]), `\w+` word counting ([`words`]) and `langdetect`
//! ([`langid`]). Each module says where it can differ from the reference.

pub mod langid;
pub mod punkt;
pub mod py;
pub mod treebank;
pub mod words;
