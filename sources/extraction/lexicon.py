"""The language machinery of the extractor: cues, negation, stance words, conditions, roles.

Actors and topics are the user's (they live in the config); how English news
reports a position is not, so it lives here. Every list is plain data, kept
apart from the code that applies it so it can be read and extended on its own.

Regex fragments in this module are written for `re.IGNORECASE` and are
bounded: gaps are `{0,n}` over `\\w+\\s+`, never a nested unbounded repeat, so
no input can make them backtrack catastrophically.
"""

from __future__ import annotations

from enum import Enum


class CueKind(Enum):
    """How a cue ties a speaker to what they said."""

    SAY = "say"
    """Reporting verb, no stance of its own: said, told, warned, stressed."""
    STANCE = "stance"
    """A verb that is itself a position: rejected, called for, backed."""
    HEDGE = "hedge"
    """Intention without commitment: would consider, is open to."""
    FORMAL = "formal"
    """A formal act that is a position: vetoed, imposed sanctions, abstained."""
    ACCORDING = "according"
    """The speaker follows the cue: according to X, statements from X."""
    PASSIVE = "passive"
    """Passive with agent: was ruled out by X."""
    POSITION = "position"
    """The possessor holds the position: X's position is that ..."""
    NULL = "null"
    """States nothing: declined to comment, has not said whether."""


# Each cue: (regex fragment, kind, polarity). Polarity +1 supports, -1 opposes,
# 0 none, and None for "neutral whatever the claim says" (abstaining).
# Order matters: at one position the first alternative that matches wins, so
# longer and more specific cues come before the words they contain.
_V = r"(?:has|have|had|is|are|was|were|will|would|\w+ly)"
"""An auxiliary or adverb that may sit inside a cue ("has consistently rejected")."""

CUES: tuple[tuple[str, CueKind, int | None], ...] = (
    # --- states nothing
    (
        r"(?:declined|declines|refused|refuses|would\s+not|wouldn[’']t|did\s+not|didn[’']t)\s+"
        r"(?:to\s+)?(?:comment|say|specify|elaborate|confirm\s+or\s+deny|be\s+drawn)",
        CueKind.NULL,
        0,
    ),
    (
        r"(?:has|have|had|did)\s*(?:not|n[’']t)\s+(?:yet\s+)?(?:said|say|decided|specified|indicated)\s+"
        r"(?:whether|if|how|when)",
        CueKind.NULL,
        0,
    ),
    (r"no\s+comment", CueKind.NULL, 0),
    # --- hedges and double negation ("did not rule out" is not opposition)
    (
        r"(?:has|have|had|did|does|do|would|will|is|was)\s*(?:not|n[’']t)\s+(?:\w+\s+)?"
        r"(?:ruled?|ruling)\s+out",
        CueKind.HEDGE,
        0,
    ),
    (r"not\s+ruling\s+out", CueKind.HEDGE, 0),
    (r"(?:would|could|will|might|may)\s+(?:\w+\s+)?consider", CueKind.HEDGE, 0),
    (r"(?:is|are|was|were|be|been|remains?|seems?)\s+(?:\w+\s+)?considering", CueKind.HEDGE, 0),
    (
        r"(?:is|are|was|were|be|been|remains?|remained|seemed|seems?|appears?|appeared)\s+"
        r"(?:\w+\s+){0,2}?open\s+to",
        CueKind.HEDGE,
        0,
    ),
    (
        r"(?:is|are|was|were|be)\s+(?:\w+\s+)?(?:weighing|mulling|exploring|studying|contemplating)",
        CueKind.HEDGE,
        0,
    ),
    (r"contemplat(?:es|ed|ing)", CueKind.HEDGE, 0),
    (r"(?:weighs|weighed|mulls|mulled)", CueKind.HEDGE, 0),
    (r"left\s+(?:the\s+)?door\s+open", CueKind.HEDGE, 0),
    # --- passive with an agent: the speaker follows "by"
    (
        r"(?:was|were|is|are|has\s+been|have\s+been|had\s+been|been|be)\s+(?:\w+ly\s+)?"
        r"(?:ruled\s+out|rejected|dismissed|opposed|blocked|vetoed|condemned|denounced|critici[sz]ed)"
        r"\s+by",
        CueKind.PASSIVE,
        -1,
    ),
    (
        r"(?:was|were|is|are|has\s+been|have\s+been|had\s+been|been|be)\s+(?:\w+ly\s+)?"
        r"(?:backed|supported|proposed|welcomed|endorsed|drafted|submitted|put\s+forward|tabled|"
        r"sponsored|championed|demanded|requested|imposed|adopted|approved)(?:\s+up)?\s+by",
        CueKind.PASSIVE,
        1,
    ),
    (
        r"(?:ruled\s+out|rejected|dismissed|opposed|blocked|vetoed|condemned|denounced|"
        r"critici[sz]ed)\s+by",
        CueKind.PASSIVE,
        -1,
    ),
    (
        r"(?:backed|supported|proposed|welcomed|endorsed|drafted|submitted|put\s+forward|tabled|"
        r"sponsored|championed|floated)\s+by",
        CueKind.PASSIVE,
        1,
    ),
    # --- formal acts
    (r"cast(?:s|ing)?\s+(?:\w+\s+){0,3}?votes?\s+against", CueKind.FORMAL, -1),
    (r"vot(?:ed|es|e|ing)\s+against", CueKind.FORMAL, -1),
    (r"vot(?:ed|es|e|ing)\s+(?:for|in\s+favou?r\s+of)", CueKind.FORMAL, 1),
    (r"veto(?:ed|es|ing)", CueKind.FORMAL, -1),
    (
        r"threaten(?:ed|s|ing)?\s+(?:to\s+(?:veto|block)|(?:a\s+|its\s+|their\s+)?veto)",
        CueKind.FORMAL,
        -1,
    ),
    (r"threaten(?:ed|s|ing)?", CueKind.STANCE, 1),
    (r"abstain(?:ed|s|ing)?", CueKind.FORMAL, None),
    (
        r"(?:used|uses|using|wielded|wields|wielding|exercised|exercises|cast|casts)\s+"
        r"(?:its|their|his|her|a|the)\s+veto",
        CueKind.FORMAL,
        -1,
    ),
    (r"(?:imposed|imposes|imposing|impose|slapped|slaps)", CueKind.FORMAL, 1),
    (r"(?:adopted|adopts|approved|approves|extended|extends|renewed|renews)", CueKind.FORMAL, 1),
    (
        r"(?:drafted|drafts|tabled|tables|submitted|submits|introduced|introduces|"
        r"put\s+forward|puts\s+forward|sponsored|co-sponsored|circulated)",
        CueKind.FORMAL,
        1,
    ),
    (r"(?:sanctioned|blacklisted)", CueKind.FORMAL, 1),
    (r"(?:lifted|lifts|eased|eases|scrapped|scraps)", CueKind.FORMAL, -1),
    # --- cues that are positions
    (r"(?:ruled|rules|ruling|rule)\s+out", CueKind.STANCE, -1),
    (r"warn(?:ed|s|ing)?\s+against", CueKind.STANCE, -1),
    (r"(?:rejected|rejects|rejecting|reject)", CueKind.STANCE, -1),
    (r"(?:dismissed|dismisses|dismissing)", CueKind.STANCE, -1),
    (r"(?:opposed|opposes|opposing)", CueKind.STANCE, -1),
    (
        r"(?:is|are|was|were|remains?|remained)\s+(?:\w+\s+)?(?:against|opposed\s+to)",
        CueKind.STANCE,
        -1,
    ),
    (r"(?:refused|refuses|refusing)", CueKind.STANCE, -1),
    (
        r"(?:condemned|condemns|denounced|denounces|criticised|criticized|criticises|criticizes|"
        r"slammed|slams|blasted|blasts|decried|decries)",
        CueKind.STANCE,
        -1,
    ),
    (
        r"(?:objected|objects|resisted|resists|spurned|spurns|balked|turned\s+down|turns\s+down|"
        r"pushed\s+back\s+against|brushed\s+aside|brushes\s+aside|brushed\s+off|waved\s+away|"
        r"waved\s+off|shrugged\s+off|rebuffed|rebuffs|shot\s+down)",
        CueKind.STANCE,
        -1,
    ),
    (r"(?:blocked|blocks|blocking|block)", CueKind.STANCE, -1),
    (r"(?:has|have|had)\s+no\s+(?:plans?|intention)", CueKind.STANCE, -1),
    (r"call(?:ed|s|ing)?\s+(?:on\s+\w+\s+)?for", CueKind.STANCE, 1),
    (r"call(?:ed|s|ing)?\s+on", CueKind.STANCE, 1),
    (r"appeal(?:ed|s|ing)?\s+(?:\w+\s+)?for", CueKind.STANCE, 1),
    (
        r"(?:urged|urges|urging|demanded|demands|demanding|pressed\s+for|pushed\s+for|pushes\s+for|"
        r"pushing\s+for)",
        CueKind.STANCE,
        1,
    ),
    (r"(?:proposed|proposes|proposing|suggested\s+holding)", CueKind.STANCE, 1),
    (
        r"(?:pledged|pledges|pledging|vowed|vows|vowing|promised|promises|committed|commits)",
        CueKind.STANCE,
        1,
    ),
    (
        r"(?:backed|backs|backing|supported|supports|endorsed|endorses|welcomed|welcomes|welcoming|"
        r"advocated|advocates|favou?red|favou?rs|hailed|hails|praised|praises|championed)",
        CueKind.STANCE,
        1,
    ),
    (
        r"(?:offered|offers|offering|agreed\s+to|agrees\s+to|agreed|accepted|accepts)",
        CueKind.STANCE,
        1,
    ),
    (
        r"(?:is|are|was|were|stands?|stood|remains?|remained|declared\s+itself|said\s+it\s+was)\s+"
        r"(?:\w+\s+)?(?:ready|willing|prepared)",
        CueKind.STANCE,
        1,
    ),
    (r"expressed\s+(?:\w+\s+)?(?:readiness|willingness|support)", CueKind.STANCE, 1),
    (r"(?:wants|wanted|seeks|sought|intends|intended)\s+to", CueKind.STANCE, 1),
    # --- the speaker follows the cue
    (
        r"according\s+to(?:\s+(?:statements|comments|remarks|a\s+statement)\s+(?:from|by))?",
        CueKind.ACCORDING,
        0,
    ),
    (r"(?:statements?|comments|remarks)\s+(?:from|by)", CueKind.ACCORDING, 0),
    (r"in\s+the\s+words\s+of", CueKind.ACCORDING, 0),
    (r"(?:quoted|quoting|cited|citing)(?=\s+(?-i:[A-Z]))", CueKind.ACCORDING, 0),
    # --- the possessor holds the position
    (
        r"['’]s\s+(?:official\s+)?(?:position|stance|view|line)\s+(?:\w+\s+)?(?:is|was|remains|"
        r"remained|has\s+been)",
        CueKind.POSITION,
        0,
    ),
    (
        r"['’]s\s+(?:\w+\s+){0,2}?(?:plan|plans|proposal|proposals|approach|initiative|framework|"
        r"blueprint|peace\s+plan|demands|conditions|terms)\s+(?:[\w-]+\s+){0,5}?(?:includes?|included|"
        r"envisages?|envisaged|envisions?|foresees?|would\s+include|provides?\s+for|calls?\s+for)",
        CueKind.POSITION,
        0,
    ),
    # --- reporting verbs
    (r"(?:said|says|say|saying)", CueKind.SAY, 0),
    (r"(?:stated|states|stating)", CueKind.SAY, 0),
    (r"(?:told|tells|telling)", CueKind.SAY, 0),
    (r"(?:added|adds|adding)", CueKind.SAY, 0),
    (r"(?:noted|noting|remarked|observed)", CueKind.SAY, 0),
    (r"(?:warned|warns|warning|cautioned|cautions)", CueKind.SAY, 0),
    (
        r"(?:stressed|stresses|stressing|emphasi[sz]ed|emphasi[sz]es|emphasi[sz]ing|underlined|"
        r"underlines|underscored|underscores)",
        CueKind.SAY,
        0,
    ),
    (
        r"(?:insisted|insists|insisting|argued|argues|arguing|asserted|asserts|maintained\s+that|"
        r"maintains\s+that|claimed\s+that)",
        CueKind.SAY,
        0,
    ),
    (
        r"(?:declared|declares|announced|announces|announcing|confirmed|confirms|confirming)",
        CueKind.SAY,
        0,
    ),
    (r"(?:clarified|clarifies|clarifying|explained|explains|explaining)", CueKind.SAY, 0),
    (
        r"(?:reiterated|reiterates|reiterating|repeated|repeats|reaffirmed|reaffirms|reaffirming|"
        r"affirmed|affirms|assured|assures)",
        CueKind.SAY,
        0,
    ),
    (r"(?:acknowledged|acknowledges|admitted|admits|conceded|concedes)", CueKind.SAY, 0),
    (r"(?:indicated|indicates|indicating|signall?ed|signals|hinted|hints)", CueKind.SAY, 0),
    (r"(?:suggested|suggests|suggesting)", CueKind.SAY, 0),
    (r"(?:pointed|points)\s+out", CueKind.SAY, 0),
    (r"(?:made|makes|making)\s+(?:it\s+)?clear", CueKind.SAY, 0),
    (r"(?:wrote|writes|posted)\s+(?:on|in)", CueKind.SAY, 0),
    (r"(?:replied|replies|responded|responds|retorted|commented|comments\s+that)", CueKind.SAY, 0),
    (
        r"(?:called|calls|calling|described|describes|describing|branded|brands|labell?ed|"
        r"termed|dubbed)",
        CueKind.SAY,
        0,
    ),
    (r"(?:floated|floats|floating|mooted)", CueKind.STANCE, 1),
    (r"(?:asked|asks)", CueKind.SAY, 0),
    (r"(?:expressed|expresses|voiced|voices)", CueKind.SAY, 0),
    (r"(?:denied|denies|denying|refuted|refutes)", CueKind.SAY, 0),
    (r"(?:believes|believed|thinks|feels)(?:\s+that)?", CueKind.SAY, 0),
    (r"(?:laid|lays|set|sets)\s+out", CueKind.SAY, 0),
    (r"(?:outlined|outlines|unveiled|unveils|presented|presents)", CueKind.SAY, 0),
    (r"(?:reported|reports)\s+that", CueKind.SAY, 0),
    (r"in\s+a\s+statement", CueKind.SAY, 0),
)
"""Reporting cues, most specific first."""

DENIAL_OBJECTS = r"(?:reports?|claims?|rumou?rs?|speculation|allegations?|media\s+reports?)"
"""A stance cue whose object is one of these denies a report: not opposition."""

PARTICIPLE_CUE = (
    r"(?:saying|stating|adding|noting|warning|arguing|insisting|stressing|"
    r"emphasi[sz]ing|clarifying|explaining|reiterating|indicating|suggesting|calling|urging|"
    r"announcing|confirming|citing|underlining)"
)
"""A cue in participle form after a comma takes the subject of the main clause."""

NEGATORS = (
    r"not|n[’']t|never|no|neither|nor|cannot|no\s+longer|hardly|far\s+from|"
    r"refus(?:e|es|ed|ing)\s+to|fail(?:s|ed)?\s+to|unwilling\s+to|without"
)
"""Words that reverse the polarity of what follows them, a few words on."""

NEGATION_SCOPE_WORDS = 4
"""How many words after a negator it still reaches."""

SCOPE_ENDERS = r"(?:but|while|whereas|although|though|however|yet|and\s+instead|instead)"
"""Words (besides commas and semicolons) that end a negation's scope."""

SUPPORT_WORDS = (
    r"support(?:s|ed|ing)?|back(?:s|ed|ing)?(?:\s+up)?|welcom(?:e|es|ed|ing)|endors(?:e|es|ed|ing)|"
    r"favou?r(?:s|ed)?|in\s+favou?r|ready|readiness|willing|willingness|prepared\s+to|"
    r"commit(?:s|ted|ment)?|pledg(?:e|es|ed)|vow(?:s|ed)?|must|should|need(?:s|ed)?\s+to|"
    r"call(?:s|ed)?\s+for|urg(?:e|es|ed)|demand(?:s|ed)?|propos(?:e|es|ed|al)|push(?:es|ed)?\s+for|"
    r"pave\s+the\s+way|irreversible|ideal|best|key\s+to|essential|crucial|vital|necessary|"
    r"priority|important|step\s+toward|step\s+towards|first\s+step|stands?\s+ready|"
    r"agree(?:s|d)?|accept(?:s|ed)?|allow(?:s|ed|ing)?|join(?:s|ed|ing)?|send(?:s|ing)?|"
    r"deploy(?:s|ed|ing)?|contribut(?:e|es|ed|ing)|participat(?:e|es|ed|ing)|take\s+part|"
    r"host(?:s|ed|ing)?|guarantee(?:s|d)?|stronger|tougher|additional|further|new|more|"
    r"increas(?:e|es|ed|ing)|strengthen(?:s|ed|ing)?|tighten(?:s|ed|ing)?|maximum\s+pressure|"
    r"continu(?:e|es|ed|ing)|work\s+toward|working\s+toward|achiev(?:e|ed|ing)|"
    r"reach(?:ed|ing)?|secure|hope(?:s|d)?|want(?:s|ed)?|help|helps|assist|assistance|"
    r"boots\s+on\s+the\s+ground|worked\s+on|provide|providing|backed\s+up|waiting\s+for"
)
"""Words that lean a claim toward support of the topic."""

OPPOSE_WORDS = (
    r"reject(?:s|ed|ing|ion)?|oppos(?:e|es|ed|ing|ition)|rul(?:e|es|ed|ing)\s+out|"
    r"(?:is|are|was|were|be|been|remains?|stands?|stood|firmly|strongly|came\s+out)\s+against|"
    r"dismiss(?:es|ed|ing)?|refus(?:e|es|ed|al)|unacceptable|unrealistic|impossible|"
    r"no\s+business|no\s+place|no\s+room|out\s+of\s+the\s+question|abandon(?:s|ed|ing)?|"
    r"drop(?:s|ped|ping)?|off\s+the\s+table|removed\s+from\s+consideration|ban(?:s|ned)?|"
    r"block(?:s|ed|ing)?|strip(?:s|ped|ping)?|curb(?:s|ing)?|limit(?:s|ing)?|"
    r"abolish(?:es|ed|ing)?|reform(?:s|ed|ing)?|restrict(?:s|ed|ing)?|fail(?:s|ed|ure)?|"
    r"crazy|counterproductive|pointless|useless|illegal|illegitimate|unjustified|"
    r"legitimate\s+(?:military\s+)?targets?|(?:be|become|are|as)\s+(?:\w+\s+)?targets?|veto(?:es|ed|ing)?\s+(?:any|the|new|further|a|an|all|this|these|such|EU|more)|red\s+line|provocation|lift(?:s|ed|ing)?|"
    r"eas(?:e|es|ed|ing)|undermin(?:e|es|ed|ing)|dissatisfaction|deadlock|"
    r"paraly[sz](?:e|es|ed|ing)|crippl(?:e|es|ed|ing)|hamstrung|temporary\s+respite|respite|ploy|trap|stalling|delay(?:s|ed|ing)?\s+tactic|never|"
    r"regular\s+combatants|no\s+longer\s+has|doomed|condemn(?:s|ed)?|denounc(?:e|es|ed)|"
    r"warn(?:s|ed)?\s+against|threat|postpone|keep\s+it\s+that\s+way|have\s+to\s+abandon|substitutes?\s+for|alternatives?\s+to|"
    r"refrain(?:s|ed|ing)?\s+from|vot(?:e|es|ed|ing)\s+against|forget\s+about"
)
"""Words that lean a claim toward opposition to the topic."""

HEDGE_WORDS = (
    r"consider(?:s|ing|ation)?|potential\s+option|an\s+option|options?\s+(?:\w+\s+)?on\s+the\s+table|"
    r"several\s+options|(?:it\s+is|it\s+was|it\s+would\s+be)\s+possible|possibility|possibly|unlikely|depend(?:s|ed|ing)?\s+on|not\s+yet|"
    r"premature|too\s+early|undecided|unclear|open\s+to|explor(?:e|es|ed|ing)|weigh(?:s|ed|ing)|"
    r"mull(?:s|ed|ing)?|discuss(?:es|ed|ing)?|can\s+decide|to\s+decide|up\s+to\s+(?:Ukraine|Kyiv)|"
    r"remains?\s+to\s+be\s+seen|uncertain(?:ty)?|if\s+and\s+when|could\s+be\s+(?:an?\s+)?"
    r"(?:option|possibility|considered)|contemplat(?:e|es|ed|ing)|not\s+ruled?\s+out|"
    r"under\s+consideration|on\s+the\s+table|evaluat(?:e|es|ed|ing)|assess(?:es|ed|ing)?|"
    r"study(?:ing)?|reviewing|ambiguous|at\s+the\s+(?:appropriate|right)\s+time|in\s+due\s+course|"
    r"when\s+the\s+time\s+comes|matter\s+for|take\s+sides|taking\s+sides|"
    r"decision\s+for"
)
"""Words that make a claim a non-committal statement (neutral)."""

CONDITION_MARKERS = (
    r"only\s+(?:if|when|with|under|after|once|in\s+the\s+case|on\s+condition|through|within|"
    r"on\s+the\s+basis\s+of|based\s+on|in\s+line\s+with|in\s+accordance\s+with|"
    r"as\s+part\s+of|in\s+exchange|provided|upon|following)|"
    r"unless|until(?!\s+(?:now|recently|then|today|the\s+end|late|early|(?:next|last|this)\s+\w+|"
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"\d))|provided(?:\s+that)?|providing\s+that|(?:as|so)\s+long\s+as(?!\s+(?:it\s+takes|necessary|needed|required|possible)\b)|"
    r"on\s+(?:the\s+)?condition(?!\s+(?:of\s+anonymity|(?:that\s+)?(?:he|she|they|it)\s+(?:not\s+be|was\s+not|were\s+not|remain)))|conditional\s+(?:on|upon)|conditioned\s+(?:on|upon)|"
    r"contingent\s+(?:on|upon)(?!\s+the\s+ground)|in\s+exchange\s+for|in\s+return\s+for|subject\s+to|"
    r"(?:a\s+|the\s+|one\s+)?(?:key\s+|main\s+|necessary\s+|essential\s+|basic\s+)?"
    r"(?:pre)?conditions?\s+(?:of|for)(?!\s+anonymity)|precondition|prerequisite|"
    r"(?<!\bif\s)(?:requir(?:e|es|ed|ing)|need|needs|needed)\s+(?:[\w-]+\s+){0,5}?(?:approval|mandate|authori[sz]ation|consent|"
    r"guarantees?|agreement|withdrawal|decision|resolution|backstop)|without\s+(?:a\s+|an\s+|the\s+|any\s+|explicit\s+|"
    r"prior\s+|such\s+|specific\s+|their\s+|its\s+)*(?:[\w-]+\s+){0,4}?(?:mandate|approval|"
    r"authori[sz]ation|consent|sanction|backstop|guarantees?)|(?:with\s+)?(?:a\s+|an\s+)?"
    r"(?:US\s+|U\.S\.\s+|American\s+)?backstop|"
    r"(?<!\bas\s)(?<!\beven\s)(?<!\bask\s)(?<!\basked\s)(?<!\bwonder\s)(?<!\bsee\s)(?<!\bknow\s)"
    r"if(?!\s+(?:necessary|needed|required|possible|asked|requested|so|any|ever|only|"
    r"appropriate|need\s+be|it\s+comes\s+to|and\s+when))|"
    r"but\s+(?:\w+\s+){0,5}?(?:has|have|must|needs?|should)(?:\s+to|\s+first)?|"
    r"while\s+the\s+(?:war|fighting|conflict|hostilities)\s+(?:is\s+|are\s+)?(?:still\s+)?"
    r"(?:going\s+on|goes\s+on|continues|continuing|rages|raging|ongoing|under\s?way)"
)
"""Markers that tie a position to a condition (the stance becomes conditional)."""

CONDITION_NOUN_PHRASES = r"(?:mandate|approval|authori[sz]ation|consent)"
"""Heads of "only with X" conditions, used when the marker is just "with"."""

QUESTION_END = "?"

ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "leader": (
        "president",
        "prime minister",
        "premier",
        "chancellor",
        "leader",
        "head of state",
        "head of government",
        "pm",
    ),
    "envoy": ("envoy", "ambassador", "representative", "diplomat", "negotiator", "delegate"),
    "minister": (
        "foreign minister",
        "minister",
        "foreign secretary",
        "secretary of state",
        "top diplomat",
        "foreign policy chief",
    ),
    "spokesperson": ("spokesman", "spokeswoman", "spokesperson", "press secretary", "spokes"),
    "secretary-general": ("secretary general", "secretary-general", "chief", "head"),
    "defence": (
        "defence minister",
        "defense minister",
        "defense secretary",
        "defence secretary",
        "pentagon chief",
    ),
    "aide": ("aide", "adviser", "advisor", "chief of staff"),
}
"""Role words grouped by the office they name, for "the envoy"-style later mentions."""

ROLE_NOUNS = (
    r"(?:(?:foreign|defen[cs]e|prime|deputy|first|top|chief|senior|special|permanent|vice|"
    r"former|acting|presidential|press|foreign\s+policy|foreign\s+ministry|ministry|government|"
    r"kremlin|state|un|u\.n\.|nato|eu)\s+)*"
    r"(?:ministers?|presidents?|premier|chancellor|leaders?|envoys?|ambassadors?|"
    r"representatives?|diplomat|spokes(?:man|woman|person)|secretary[- ]general|"
    r"secretary\s+of\s+state|foreign\s+secretary|defen[cs]e\s+secretary|press\s+secretary|"
    r"secretary|official|officials|aide|aides|advisers?|advisors?|negotiator|negotiators|"
    r"chiefs?|heads?|government|"
    r"administration|ministry|office|embassy|mission|delegation|delegate|source|sources|"
    r"country|side|authorities|leadership|cabinet|presidency|commission|military|"
    r"army|diplomats|leaders)"
)
"""Nouns that make a demonym or possessive a speaker: "the Russian envoy", "Moscow's ambassador"."""

NON_SPEAKER_HEADS = (
    r"(?:media|press|newspaper|newspapers|news\s+agency|agency|outlet|outlets|television|tv|"
    r"state\s+tv|broadcaster|analysts?|experts?|commentators?|journalists?|reporters?|troops|"
    r"forces|soldiers|drones?|missiles?|strikes?|attacks?|company|companies|firms?|banks?|"
    r"oligarchs?|businessm[ae]n|citizens|people|public|opposition|activists?|bloggers?|"
    r"courts?|judges?|prosecutors?|athletes?|players?|clubs?|teams?|fans|capital|city|"
    r"border|territory|territories|soil|economy|gas|oil|language|speakers?|refugees?|"
    r"prisoners?|veterans?|scholars?|historians?|think\s+tank|polls?|voters|civilians|"
    r"lawmakers|legislators|senators?|congressm[ae]n|MPs|parliamentarians|Democrats|Republicans|"
    r"Democratic|Republican|opposition\s+\w+)"
)
"""Heads after a demonym that are not the state speaking ("Russian media said")."""

DEMOTING_PREPOSITIONS = (
    r"(?:to|with|on|against|toward|towards|into|at|about|over|for|than|between|among|"
    r"upon|onto|across|via|versus|vs\.?|like|unlike|including|beside|besides)"
)
"""A mention right after one of these is an object, never the speaker ("envoy to Russia")."""

INSTITUTION_NOUNS = (
    r"(?:administration|government|office|spokes(?:man|woman|person)|aide|aides|adviser|"
    r"advisor|advisers|advisors|team|camp|ministry|envoy|envoys|ambassador|representative|"
    r"embassy|mission|delegation|cabinet|officials?|allies|press\s+secretary|press\s+service|"
    r"negotiators?|side|entourage|circle|staff|people|chief\s+of\s+staff|"
    r"(?:\w+\s+)?(?:ambassador|envoy|representative|spokes(?:man|woman|person)))"
)
"""A person's possessive before these names their office, not them: "Putin's administration"."""

SHIFTING_PREPOSITIONS = (
    r"(?:aide|adviser|advisor|spokes(?:man|woman|person)|envoy|representative|"
    r"aides|advisers|advisors|official|officials|source|sources|close)\s+(?:to|for|of|close\s+to)"
)
"""Before a person's name these name their office: "an aide to Vladimir Putin"."""

PRONOUNS = r"(?:he|she|they|it|we)"
"""Pronoun subjects resolved to the speaker of a recent sentence."""

CARRY_SENTENCES = 2
"""How many sentences on a pronoun or "the minister" may still refer to a speaker."""

ASIDE_OPENERS = (
    r"(?:who|whom|whose|which|speaking|writing|addressing|talking|appearing|standing|"
    r"flanked\s+by|alongside|accompanied\s+by)"
)
"""A comma and one of these open an aside ("Zelensky, speaking in London, said")."""

COMMENTARY_OPENERS = (
    r",\s+(?:effectively|thereby|thus|in\s+effect|which\s+(?:would|could|means|meant|gives|"
    r"gave|makes|made))\b"
)
"""The writer's gloss after the claim; its topic words are not the speaker's."""

_CLAUSE_CONJUNCTIONS = r"but|while|whereas|although|though|and|however|yet"
_CLAUSE_VERBS = (
    r"suggested|said|added|warned|urged|called|insisted|argued|stressed|noted|"
    r"rejected|dismissed|proposed|ruled|backed|welcomed|offered"
)
_CLAUSE_PARTICIPLES = r"adding|saying|stressing|noting|arguing|insisting|warning|calling|urging"
CLAUSE_BREAKS = (
    r";|:|\s+[-–—]\s+|,\s*(?:" + _CLAUSE_CONJUNCTIONS + r")\b|"
    r"\s+(?:but|whereas|although)\s+|\s+and\s+(?:instead|also|then)\b|\binstead\b|"
    r"\s+and\s+(?=(?:" + _CLAUSE_VERBS + r")\b)|"
    r",\s*(?=(?:" + _CLAUSE_PARTICIPLES + r")\b)"
)
"""Where one clause of a claim ends and the next begins, for per-topic stance."""

CLAUSE_BREAKS_LOWER = (
    r"[;:,\si](?:(?<=[;:])"
    r"|(?<=,)\s*(?:(?:" + _CLAUSE_CONJUNCTIONS + r")\b|(?=(?:" + _CLAUSE_PARTICIPLES + r")\b))"
    r"|(?<=\s)\s*(?:[-–—]\s+|(?:but|whereas|although)\s+|and\s+(?:instead|also|then)\b"
    r"|and\s+(?=(?:" + _CLAUSE_VERBS + r")\b))"
    r"|(?<=i)(?<!\w.)nstead\b)"
)
r"""`CLAUSE_BREAKS` for lower-cased text, case-sensitive, with the same matches: every
break starts with one of `;:,`, a space or the "i" of "instead", so the first character
is taken from a class (the regex engine then skips other characters without trying the
alternatives) and a lookbehind picks the alternatives that can start with it, in the
same order. `\s+` before a word or a dash always takes the whole run of spaces, so
one `\s` and then `\s*` is the same; `\b` before "instead" is `(?<!\w.)` after its "i"."""

ANAPHORA = (
    r"(?:the|this|that|such\s+an?|these|those|his|her|their|its)\s+(?:[\w-]+\s+)?"
    r"(?:idea|ideas|proposal|proposals|plan|plans|initiative|initiatives|offer|move|call|"
    r"suggestion|demand|demands|option|approach|deal|scheme|force|mission|measure|measures|"
    r"step|request|draft|text|document|framework|deployment|proposition|demand)"
)
"""Noun phrases that point back to the previous sentence's topic ("rejected the initiative")."""

ABBREVIATIONS = frozenset(
    """mr mrs ms dr gen lt col maj capt sgt adm sen rep gov pres prof st jr sr vs etc
    e.g i.e no nos jan feb mar apr jun jul aug sep sept oct nov dec u.s u.n u.k e.u a.m p.m
    inc ltd corp co approx est amb rev fr messrs mt ft u.s.a d.c cf al fig op vol art para
    dept govt min max""".split()
)
"""Words that end in a full stop without ending the sentence."""

SENTENCE_STARTERS = frozenset(
    """the he she it they we i this that these those but and in on at a an however meanwhile
    earlier later yet also his her their its there what when while after before since as
    if according speaking asked""".split()
)
"""After an abbreviation like "U.S.", one of these starts a new sentence."""
