//! C-Eval (`ceval/ceval-exam` records: `id`, `question`, `A`..`D`, `answer`, `explanation`; as the
//! official per-subject CSV folders `val/<subject>_val.csv`, `dev/<subject>_dev.csv`, or as JSONL
//! with a `subject` field).
//!
//! Prompt: EvalScope's Chinese template naming the subject in Chinese, options as `A. text`;
//! 5-shot by default as EvalScope: the first N records of the subject in the dev split
//! (`ceval_dev.jsonl`, `dev.jsonl` or the official `dev/` folder, beside the val data) with
//! their explanations; `few_shot_num: 0` gives the zero-shot prompt.
//! Extraction: the last `答案：X` (X in A-D, full-width colon), else nothing; score: exact letter
//! match. Report categories: STEM, Social Science, Humanities, Other.

use serde_json::Value;

use super::source::{
    FewShotSplit, Record, eval_files, few_shot_files, read_records, subject_of, without_split,
};
use super::template::render;
use super::{
    SampleParts, acc_score, by_subset, enough_examples, exact_match, few_shot_num, messages,
    metadata, select_subsets,
};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "ceval";

/// EvalScope's default few-shot count.
pub const FEW_SHOT_NUM: u32 = 5;

/// The split the few-shot examples come from, as a local copy of the dataset names it.
pub const TRAIN_SPLIT: FewShotSplit<'static> = FewShotSplit {
    split: "dev",
    names: &["ceval_dev.jsonl", "dev.jsonl", "dev/"],
    extensions: &[".jsonl", ".csv"],
};

/// The 52 subjects in EvalScope's order: name, Chinese name, category.
pub const SUBJECTS: [(&str, &str, &str); 52] = [
    ("computer_network", "计算机网络", "STEM"),
    ("operating_system", "操作系统", "STEM"),
    ("computer_architecture", "计算机组成", "STEM"),
    ("college_programming", "大学编程", "STEM"),
    ("college_physics", "大学物理", "STEM"),
    ("college_chemistry", "大学化学", "STEM"),
    ("advanced_mathematics", "高等数学", "STEM"),
    ("probability_and_statistics", "概率统计", "STEM"),
    ("discrete_mathematics", "离散数学", "STEM"),
    ("electrical_engineer", "注册电气工程师", "STEM"),
    ("metrology_engineer", "注册计量师", "STEM"),
    ("high_school_mathematics", "高中数学", "STEM"),
    ("high_school_physics", "高中物理", "STEM"),
    ("high_school_chemistry", "高中化学", "STEM"),
    ("high_school_biology", "高中生物", "STEM"),
    ("middle_school_mathematics", "初中数学", "STEM"),
    ("middle_school_biology", "初中生物", "STEM"),
    ("middle_school_physics", "初中物理", "STEM"),
    ("middle_school_chemistry", "初中化学", "STEM"),
    ("veterinary_medicine", "兽医学", "STEM"),
    ("college_economics", "大学经济学", "Social Science"),
    ("business_administration", "工商管理", "Social Science"),
    ("marxism", "马克思主义基本原理", "Social Science"),
    (
        "mao_zedong_thought",
        "毛泽东思想和中国特色社会主义理论体系概论",
        "Social Science",
    ),
    ("education_science", "教育学", "Social Science"),
    ("teacher_qualification", "教师资格", "Social Science"),
    ("high_school_politics", "高中政治", "Social Science"),
    ("high_school_geography", "高中地理", "Social Science"),
    ("middle_school_politics", "初中政治", "Social Science"),
    ("middle_school_geography", "初中地理", "Social Science"),
    ("modern_chinese_history", "近代史纲要", "Humanities"),
    (
        "ideological_and_moral_cultivation",
        "思想道德修养与法律基础",
        "Humanities",
    ),
    ("logic", "逻辑学", "Humanities"),
    ("law", "法学", "Humanities"),
    (
        "chinese_language_and_literature",
        "中国语言文学",
        "Humanities",
    ),
    ("art_studies", "艺术学", "Humanities"),
    ("professional_tour_guide", "导游资格", "Humanities"),
    ("legal_professional", "法律职业资格", "Humanities"),
    ("high_school_chinese", "高中语文", "Humanities"),
    ("high_school_history", "高中历史", "Humanities"),
    ("middle_school_history", "初中历史", "Humanities"),
    ("civil_servant", "公务员", "Other"),
    ("sports_science", "体育学", "Other"),
    ("plant_protection", "植物保护", "Other"),
    ("basic_medicine", "基础医学", "Other"),
    ("clinical_medicine", "临床医学", "Other"),
    ("urban_and_rural_planner", "注册城乡规划师", "Other"),
    ("accountant", "注册会计师", "Other"),
    ("fire_engineer", "注册消防工程师", "Other"),
    (
        "environmental_impact_assessment_engineer",
        "环境影响评价工程师",
        "Other",
    ),
    ("tax_accountant", "税务师", "Other"),
    ("physician", "医师资格", "Other"),
];

/// EvalScope's prompt.
pub const PROMPT_TEMPLATE: &str = "以下是中国关于{subject}的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式：\"答案：[LETTER]\"（不带引号），其中 [LETTER] 是 A、B、C、D 中的一个。\n\n问题：{question}\n选项：\n{choices}\n";

/// EvalScope's few-shot preamble (followed by a newline and the prompt).
pub const FEW_SHOT_TEMPLATE: &str = "以下是一些示例问题：\n\n{fewshot}\n\n";

/// C-Eval.
#[derive(Debug, Clone, Copy, Default)]
pub struct CEval;

struct Question {
    subject: String,
    question: String,
    choices: Vec<String>,
    answer: String,
    explanation: String,
    id: Value,
}

fn parse(r: &Record) -> Result<Question, EvalError> {
    let subject = match r.opt_text("subject")? {
        Some(s) => s,
        None => subject_of(&r.path, &["_val", "_dev", "_test"]),
    };
    let choices = ["A", "B", "C", "D"]
        .iter()
        .map(|f| r.text(f))
        .collect::<Result<Vec<_>, _>>()?;
    let answer = crate::mc::py_strip(&r.text("answer")?).to_owned();
    if !["A", "B", "C", "D"].contains(&answer.as_str()) {
        return Err(r.bad("answer", format!("{answer:?} is not one of A, B, C, D")));
    }
    Ok(Question {
        subject,
        question: r.text("question")?,
        choices,
        answer,
        explanation: r.opt_text("explanation")?.unwrap_or_default(),
        id: r.get("id").cloned().unwrap_or(Value::Null),
    })
}

fn read(files: &[std::path::PathBuf]) -> Result<Vec<Question>, EvalError> {
    let mut out = Vec::new();
    for f in files {
        for r in read_records(NAME, f)? {
            out.push(parse(&r)?);
        }
    }
    Ok(out)
}

/// `A. text` lines.
fn options_block(choices: &[String]) -> String {
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}. {c}", crate::mc::answer_character(i)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn few_shot_example(q: &Question) -> String {
    format!(
        "问题：{}\n选项：\n{}\n解析：{}\n答案：{}",
        q.question,
        options_block(&q.choices),
        q.explanation,
        q.answer
    )
}

/// EvalScope's C-Eval extraction: the last `答案：X` with X in A-D, or `""`.
pub fn extract_answer(completion: &str) -> String {
    let marker = "答案：";
    let mut found = String::new();
    let mut rest = completion;
    while let Some(pos) = rest.find(marker) {
        let after = &rest[pos + marker.len()..];
        if let Some(c) = after.chars().next().filter(|c| ('A'..='D').contains(c)) {
            found = c.to_string();
        }
        rest = after;
    }
    found
}

impl Benchmark for CEval {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "C-Eval",
            task_type: "knowledge",
            metrics: vec!["acc"],
            subsets: SUBJECTS.iter().map(|(s, _, _)| (*s).to_owned()).collect(),
            few_shot_num: FEW_SHOT_NUM,
            eval_split: "val",
            train_split: TRAIN_SPLIT.split,
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let all: Vec<String> = SUBJECTS.iter().map(|(s, _, _)| (*s).to_owned()).collect();
        let subsets = select_subsets(NAME, &all, args)?;
        let files = eval_files(
            NAME,
            args,
            &["ceval_val.jsonl", "val.jsonl", "val"],
            &[".jsonl", ".csv"],
            "C-Eval val records (question, A-D, answer)",
        )?;
        let files = without_split(args, files, TRAIN_SPLIT);
        let items: Vec<(String, Question)> = read(&files)?
            .into_iter()
            .map(|q| (q.subject.clone(), q))
            .collect();
        let shots = few_shot_num(args, FEW_SHOT_NUM);
        let dev = if shots > 0 {
            read(&few_shot_files(NAME, args, shots, TRAIN_SPLIT)?)?
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        for (subset, records) in by_subset(&subsets, items, args.limit) {
            let chinese = SUBJECTS
                .iter()
                .find(|(s, _, _)| *s == subset)
                .map_or(subset.as_str(), |(_, zh, _)| zh);
            let fewshot = if shots > 0 && !records.is_empty() {
                let examples: Vec<String> = dev
                    .iter()
                    .filter(|q| q.subject == subset)
                    .take(shots)
                    .map(few_shot_example)
                    .collect();
                let examples =
                    enough_examples(NAME, args, &subset, TRAIN_SPLIT.split, shots, examples)?;
                Some(render(
                    FEW_SHOT_TEMPLATE,
                    &[("fewshot", &examples.join("\n\n"))],
                ))
            } else {
                None
            };
            for (index, q) in records.into_iter().enumerate() {
                let user = render(
                    PROMPT_TEMPLATE,
                    &[
                        ("subject", chinese),
                        ("question", &q.question),
                        ("choices", &options_block(&q.choices)),
                    ],
                );
                let prompt = match &fewshot {
                    Some(f) => format!("{f}\n{user}"),
                    None => user,
                };
                let meta = metadata([
                    ("id", q.id),
                    ("explanation", Value::String(q.explanation)),
                    ("subject", Value::String(subset.clone())),
                ]);
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(NAME, prompt, args)?,
                        gold: q.answer,
                        choices: q.choices,
                        metadata: meta,
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }

    fn extract(&self, completion: &str, _sample: &Sample) -> String {
        extract_answer(completion)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        acc_score(extracted, exact_match(extracted, &sample.gold))
    }

    fn category(&self, subset: &str) -> Vec<String> {
        let category = SUBJECTS
            .iter()
            .find(|(s, _, _)| *s == subset)
            .map_or("default", |(_, _, c)| c);
        vec![category.to_owned()]
    }
}
