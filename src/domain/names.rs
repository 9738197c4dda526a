//! Contractor names as they appear in delivered data files: folding away what does not tell
//! two contractors apart (case, accents, punctuation, spaces, legal forms), and a similarity
//! score that ranks the likely spellings of one contractor first.

/// Legal forms and their abbreviations, after dots are removed ("B.V." is "bv").
const LEGAL_FORMS: &[&str] = &["bv", "nv", "vof", "cv", "fa", "firma", "bvba", "gmbh", "ltd", "holding"];

fn fold_char(c: char) -> &'static str {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ý' | 'ÿ' => "y",
        'ç' => "c",
        'ñ' => "n",
        'ĳ' => "ij",
        'ß' => "ss",
        _ => "",
    }
}

/// The words of a name that identify the contractor: lower case, without accents,
/// punctuation or legal forms. "Fa. Jansen BV" and "Firma Jansen B.V." both give ["jansen"].
pub fn significant_words(name: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        match fold_char(c) {
            "" if c == '.' => {}
            "" if c.is_alphanumeric() => cleaned.push(c),
            "" => cleaned.push(' '),
            folded => cleaned.push_str(folded),
        }
    }
    cleaned
        .split_whitespace()
        .filter(|word| !LEGAL_FORMS.contains(word))
        .map(str::to_string)
        .collect()
}

/// The folded name with its words joined, so that "Installatie-techniek" and
/// "Installatietechniek" compare equal.
pub fn fold(name: &str) -> String {
    significant_words(name).concat()
}

fn trigrams(text: &[char]) -> Vec<[char; 3]> {
    let padded: Vec<char> = [' ', ' ']
        .into_iter()
        .chain(text.iter().copied())
        .chain([' '])
        .collect();
    let mut grams: Vec<[char; 3]> = padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// How alike two names are, from 0 (nothing in common) to 1 (the same after folding): the
/// mean of an edit-distance similarity and trigram overlap (Dice) of the folded names.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (fold(a), fold(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    // 1 - distance / length of the longer, counted in characters.
    let edit = strsim::normalized_levenshtein(&a, &b);
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (ga, gb) = (trigrams(&a), trigrams(&b));
    let shared = ga.iter().filter(|g| gb.binary_search(g).is_ok()).count();
    let dice = 2.0 * shared as f64 / (ga.len() + gb.len()) as f64;
    ((edit + dice) / 2.0 * 1000.0).round() / 1000.0
}

/// Below this an own name looks unlike the contractor's name: the reviewer should look twice.
pub const LOW_SIMILARITY: f64 = 0.6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_punctuation_spaces_and_legal_forms() {
        assert_eq!(fold("Fa. Jansen BV"), fold("Firma Jansen B.V."));
        assert_eq!(fold("Installatie-techniek"), "installatietechniek");
        assert_eq!(fold("  INSTALLATIETECHNIEK  "), "installatietechniek");
        assert_eq!(fold("Café Müller V.O.F."), "cafemuller");
        assert_eq!(fold("Bouwbedrijf Ĳsselmonde N.V."), "bouwbedrijfijsselmonde");
        assert_eq!(fold("B.V."), "");
    }

    #[test]
    fn spellings_of_one_contractor_rank_above_other_contractors() {
        let target = "Installatietechniek";
        let catalog = [
            "Bouwbedrijf Jansen",
            "installatietechnik",
            "Installatie-techniek",
            "Schilderwerken De Vries",
            "Installatietechniek Noord B.V.",
            "Dakdekkers Installatie",
        ];
        let mut ranked: Vec<(f64, &str)> = catalog.iter().map(|n| (similarity(target, n), *n)).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let order: Vec<&str> = ranked.iter().map(|r| r.1).collect();
        assert_eq!(order[0], "Installatie-techniek");
        assert_eq!(order[1], "installatietechnik");
        let jansen = ranked.iter().find(|r| r.1 == "Bouwbedrijf Jansen").unwrap().0;
        assert!(jansen < LOW_SIMILARITY, "{jansen}");
        assert!(similarity(target, "installatietechnik") > 0.85);
    }

    #[test]
    fn real_looking_dutch_company_names() {
        let same = [
            ("Fa. Jansen BV", "Firma Jansen B.V."),
            ("Van der Berg Onderhoud", "van der Berg onderhoud bv"),
            ("Schilderbedrijf De Wit", "Schilderbedrijf de Wit V.O.F."),
            ("Klusbedrijf O'Neill", "Klusbedrijf ONeill"),
        ];
        for (a, b) in same {
            assert_eq!(similarity(a, b), 1.0, "{a} ~ {b}");
        }
        let near = [
            ("Loodgietersbedrijf Bakker", "Loodgietersbedr. Bakker"),
            ("Groenonderhoud Pietersen", "Groen-onderhoud Pieterse"),
        ];
        for (a, b) in near {
            assert!(similarity(a, b) > 0.75, "{a} ~ {b}: {}", similarity(a, b));
        }
        let different = [
            ("Installatietechniek", "Bouwbedrijf Jansen"),
            ("Dakwerken Smit", "Tegelzetter Yilmaz"),
        ];
        for (a, b) in different {
            assert!(similarity(a, b) < LOW_SIMILARITY, "{a} ~ {b}: {}", similarity(a, b));
        }
        assert_eq!(similarity("", "Jansen"), 0.0);
    }
}
