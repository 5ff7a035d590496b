"""The extractor, rule by rule, on sentences written for these tests (and the seed article)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.extraction import MAX_CHARS, Extractor, load_default_specs
from sources.records import ActorSpec, Extraction, PersonSpec, Stance, TopicSpec

SEED = Path("/work/shared/eval/seed-article.txt")


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    """One extractor for the module: it is immutable, and compiling it is the slow part."""
    actors, topics = load_default_specs()
    return Extractor(actors, topics)


def pairs(found: list[Extraction]) -> set[tuple[str, str]]:
    return {(e.actor, e.topic) for e in found}


def only(found: list[Extraction], actor: str, topic: str) -> Extraction:
    matches = [e for e in found if e.actor == actor and e.topic == topic]
    assert len(matches) == 1, found
    return matches[0]


# --- the seed article ----------------------------------------------------------


@pytest.mark.skipif(not SEED.exists(), reason="seed article not available")
def test_the_seed_article_yields_its_five_statements(extractor: Extractor) -> None:
    found = extractor.extract(SEED.read_text(encoding="utf-8"))
    wanted = [
        ("russia", "Vassily Nebenzia", "peacekeeping", Stance.CONDITIONAL),
        ("russia", "Vladimir Putin", "nato-membership", Stance.OPPOSES),
        ("russia", None, "ceasefire", Stance.CONDITIONAL),
        ("france", "Jean-Noel Barrot", "peacekeeping", Stance.NEUTRAL),
        ("united-states", "Donald Trump", "nato-membership", Stance.NEUTRAL),
    ]
    for actor, speaker, topic, stance in wanted:
        matches = [
            e
            for e in found
            if (e.actor, e.speaker, e.topic, e.stance) == (actor, speaker, topic, stance)
        ]
        assert matches, (actor, speaker, topic, stance)
    ceasefire = next(e for e in found if e.actor == "russia" and e.topic == "ceasefire")
    assert ceasefire.condition is not None and "NATO membership" in ceasefire.condition


@pytest.mark.skipif(not SEED.exists(), reason="seed article not available")
def test_the_seed_article_does_not_make_the_security_council_speak(extractor: Extractor) -> None:
    found = extractor.extract(SEED.read_text(encoding="utf-8"))
    assert "united-nations" not in {e.actor for e in found}


# --- sentences -----------------------------------------------------------------


def test_abbreviations_do_not_cut_a_sentence_in_two(extractor: Extractor) -> None:
    text = (
        "At 9 a.m. on Jan. 12 the U.S. envoy, Gen. Keith Kellogg, said Washington backed "
        "a 30-day ceasefire. The weather was cold."
    )
    found = extractor.extract(text)
    statement = only(found, "united-states", "ceasefire")
    assert statement.speaker == "Keith Kellogg"
    assert statement.claim.startswith("At 9 a.m.") and statement.claim.endswith("ceasefire.")


def test_a_quotation_stays_whole_and_keeps_its_speaker(extractor: Extractor) -> None:
    text = (
        '"There will be no foreign troops in Ukraine. Not now, not later," Lavrov said on '
        "Friday. The meeting ended early."
    )
    statement = only(extractor.extract(text), "russia", "peacekeeping")
    assert statement.speaker == "Sergei Lavrov"
    assert statement.stance is Stance.OPPOSES
    assert "Not now" in statement.claim


def test_an_exclamation_is_glued_back_to_its_speaker(extractor: Extractor) -> None:
    text = '"We reject this so-called truce!" Peskov said. Nothing else was agreed.'
    statement = only(extractor.extract(text), "russia", "ceasefire")
    assert statement.speaker == "Dmitry Peskov"
    assert statement.stance is Stance.OPPOSES


def test_a_quoted_question_states_nothing(extractor: Extractor) -> None:
    text = '"Who would ever trust a ceasefire signed by Moscow?" asked Zelensky.'
    assert extractor.extract(text) == []


def test_a_quote_that_runs_on_keeps_its_speaker(extractor: Extractor) -> None:
    text = (
        '"Europe must be ready," Macron said on Tuesday. '
        '"We will send a reassurance force to Ukraine once the guns fall silent."'
    )
    statement = only(extractor.extract(text), "france", "peacekeeping")
    assert statement.speaker == "Emmanuel Macron"
    assert statement.carried


# --- headlines -----------------------------------------------------------------


def test_a_headline_with_a_colon_names_its_speaker(extractor: Extractor) -> None:
    found = extractor.extract("", title="Russia: no peacekeepers without UN mandate")
    statement = only(found, "russia", "peacekeeping")
    assert statement.stance is Stance.CONDITIONAL
    assert statement.condition is not None and "mandate" in statement.condition


def test_a_headline_ending_in_a_dash_names_its_speaker(extractor: Extractor) -> None:
    found = extractor.extract("", title="Western troops in Ukraine would be targets – Lavrov")
    statement = only(found, "russia", "peacekeeping")
    assert statement.speaker == "Sergei Lavrov"
    assert statement.stance is Stance.OPPOSES


def test_a_says_headline_is_a_statement(extractor: Extractor) -> None:
    found = extractor.extract("", title="Hungary says it will veto new EU sanctions on Russia")
    assert only(found, "hungary", "sanctions").stance is Stance.OPPOSES


# --- actors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Moscow", "The Kremlin", "Russia", "A Russian diplomat", "Russian officials"],
)
def test_capitals_institutions_and_demonyms_name_the_actor(
    extractor: Extractor, subject: str
) -> None:
    found = extractor.extract(f"{subject} rejected any deployment of NATO troops in Ukraine.")
    assert pairs(found) == {("russia", "peacekeeping")}


def test_all_capital_acronyms_are_matched_case_sensitively(extractor: Extractor) -> None:
    assert extractor.tag("The US backed new sanctions.")[0] == ("united-states",)
    assert extractor.tag("Let us back new sanctions.")[0] == ()


def test_a_person_names_their_actor_and_is_the_speaker(extractor: Extractor) -> None:
    statement = only(
        extractor.extract("Szijjarto said Budapest would block the next sanctions package."),
        "hungary",
        "sanctions",
    )
    assert statement.speaker == "Péter Szijjártó"
    assert statement.alias == "Szijjarto"


def test_a_person_is_named_by_surname_and_title_later(extractor: Extractor) -> None:
    text = (
        "Vasily Nebenzya spoke after the vote. Ambassador Nebenzia later said Moscow would "
        "veto any resolution that ignored its concerns."
    )
    statement = only(extractor.extract(text), "russia", "un-veto")
    assert statement.speaker == "Vassily Nebenzia"


def test_the_envoy_is_the_envoy_named_before(extractor: Extractor) -> None:
    text = (
        "Vassily Nebenzia met reporters in New York on Monday. The weather was fine. "
        "The envoy insisted that peacekeepers would need a Security Council mandate."
    )
    statement = only(extractor.extract(text), "russia", "peacekeeping")
    assert statement.speaker == "Vassily Nebenzia"
    assert statement.carried


def test_a_possessive_office_speaks_for_the_actor_without_a_speaker(extractor: Extractor) -> None:
    text = "Putin's administration has said it will never accept a ceasefire on these terms."
    statement = only(extractor.extract(text), "russia", "ceasefire")
    assert statement.speaker is None
    assert statement.stance is Stance.OPPOSES


def test_a_possessive_actor_before_a_named_person_gives_the_person(extractor: Extractor) -> None:
    text = "Moscow's UN ambassador Vassily Nebenzia said any peacekeeping mission needs consent."
    assert only(extractor.extract(text), "russia", "peacekeeping").speaker == "Vassily Nebenzia"


def test_an_aide_to_a_leader_speaks_for_the_actor_without_the_leader(
    extractor: Extractor,
) -> None:
    text = "A senior aide to Vladimir Putin dismissed the proposed 30-day ceasefire."
    statement = only(extractor.extract(text), "russia", "ceasefire")
    assert statement.speaker is None
    assert statement.stance is Stance.OPPOSES


def test_an_envoy_to_a_country_speaks_for_the_sender(extractor: Extractor) -> None:
    text = "The US ambassador to Russia said Washington supports a negotiated settlement."
    assert pairs(extractor.extract(text)) == {("united-states", "ceasefire")}


def test_a_demonym_envoy_names_the_actor(extractor: Extractor) -> None:
    text = "A Russian envoy said the draft resolution was unacceptable."
    statement = only(extractor.extract(text), "russia", "un-veto")
    assert statement.stance is Stance.OPPOSES


def test_the_security_council_is_a_venue_not_an_actor(extractor: Extractor) -> None:
    text = "The UN Security Council demanded an immediate ceasefire in a resolution on Friday."
    assert "united-nations" not in {e.actor for e in extractor.extract(text)}


def test_state_media_are_not_the_state(extractor: Extractor) -> None:
    assert extractor.extract("Russian state media said the ceasefire talks had failed.") == []


# --- attribution ---------------------------------------------------------------


def test_speaker_cue_content(extractor: Extractor) -> None:
    statement = only(
        extractor.extract("Rutte stressed that Ukraine's path to NATO membership is irreversible."),
        "nato",
        "nato-membership",
    )
    assert (statement.speaker, statement.cue, statement.stance) == (
        "Mark Rutte",
        "stressed",
        Stance.SUPPORTS,
    )


def test_content_then_cue_then_speaker(extractor: Extractor) -> None:
    text = '"A ceasefire is the first step toward a just peace," said Guterres.'
    statement = only(extractor.extract(text), "united-nations", "ceasefire")
    assert statement.speaker == "António Guterres"
    assert statement.stance is Stance.SUPPORTS


def test_content_then_speaker_then_cue(extractor: Extractor) -> None:
    text = (
        "Poland will not send soldiers to Ukraine under any circumstances, "
        "Prime Minister Donald Tusk told reporters in Warsaw."
    )
    statement = only(extractor.extract(text), "poland", "peacekeeping")
    assert statement.speaker == "Donald Tusk"
    assert statement.stance is Stance.OPPOSES


def test_according_to_speaker_content(extractor: Extractor) -> None:
    text = "According to Kaja Kallas, the EU will adopt a new sanctions package next week."
    statement = only(extractor.extract(text), "european-union", "sanctions")
    assert (statement.speaker, statement.cue) == ("Kaja Kallas", "According to")


def test_content_according_to_statements_from_speaker(extractor: Extractor) -> None:
    text = "Ankara is ready to host direct peace talks, according to statements from Hakan Fidan."
    statement = only(extractor.extract(text), "turkey", "ceasefire")
    assert statement.speaker == "Hakan Fidan"


def test_a_possessive_position_is_the_possessor_s(extractor: Extractor) -> None:
    text = "China's position is that sanctions without a UN mandate are illegal."
    statement = only(extractor.extract(text), "china", "sanctions")
    assert statement.stance in (Stance.OPPOSES, Stance.CONDITIONAL)


def test_a_passive_with_an_agent_gives_the_agent(extractor: Extractor) -> None:
    text = "Any NATO troop presence in Ukraine was ruled out by Moscow on Thursday."
    statement = only(extractor.extract(text), "russia", "peacekeeping")
    assert statement.stance is Stance.OPPOSES


@pytest.mark.parametrize(
    ("text", "actor", "topic", "stance"),
    [
        ("Russia vetoed the draft resolution on Ukraine.", "russia", "un-veto", Stance.OPPOSES),
        ("France drafted a Security Council resolution.", "france", "un-veto", Stance.SUPPORTS),
        ("China abstained in the vote on the resolution.", "china", "un-veto", Stance.NEUTRAL),
        (
            "The EU imposed sanctions on three Russian banks.",
            "european-union",
            "sanctions",
            Stance.SUPPORTS,
        ),
    ],
)
def test_formal_acts_are_positions(
    extractor: Extractor, text: str, actor: str, topic: str, stance: Stance
) -> None:
    assert only(extractor.extract(text), actor, topic).stance is stance


def test_an_aside_does_not_speak(extractor: Extractor) -> None:
    text = (
        "Sybiha, who replaced Dmytro Kuleba as foreign minister, said Kyiv would not accept "
        "a ceasefire that froze the front line."
    )
    found = extractor.extract(text)
    statement = only(found, "ukraine", "ceasefire")
    assert statement.speaker == "Andrii Sybiha"
    assert statement.stance is Stance.OPPOSES


def test_the_speaker_carries_over_to_he_in_the_next_sentence(extractor: Extractor) -> None:
    text = (
        "Lavrov spoke to reporters in Ankara. "
        "He warned that NATO membership for Kyiv was a red line."
    )
    statement = only(extractor.extract(text), "russia", "nato-membership")
    assert (statement.speaker, statement.carried, statement.alias) == (
        "Sergei Lavrov",
        True,
        "He",
    )
    assert statement.stance is Stance.OPPOSES


def test_the_speaker_carries_over_to_the_minister_added(extractor: Extractor) -> None:
    text = (
        "Sikorski met his Ukrainian counterpart on Monday. "
        "Poland backs tougher sanctions, the minister added."
    )
    statement = only(extractor.extract(text), "poland", "sanctions")
    assert statement.speaker == "Radoslaw Sikorski"


def test_a_pronoun_does_not_carry_over_three_sentences(extractor: Extractor) -> None:
    text = (
        "Lavrov spoke to reporters. The hall was full. Lunch was late. The sun set. "
        "He said peace talks were pointless."
    )
    assert extractor.extract(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The Kremlin declined to comment on the proposed ceasefire.",
        "Washington has not said whether it would join the sanctions.",
        "Peskov refused to comment on reports about peacekeepers.",
    ],
)
def test_declining_to_comment_states_nothing(extractor: Extractor, text: str) -> None:
    assert extractor.extract(text) == []


def test_intention_phrases_are_neutral(extractor: Extractor) -> None:
    text = "Berlin is open to discussing a European peacekeeping force, Merz said."
    statement = only(extractor.extract(text), "germany", "peacekeeping")
    assert statement.stance is Stance.NEUTRAL


# --- topics --------------------------------------------------------------------


def test_one_sentence_can_carry_several_topics(extractor: Extractor) -> None:
    text = "Zelensky urged tougher sanctions until Russia agrees to a full ceasefire."
    assert pairs(extractor.extract(text)) == {("ukraine", "sanctions"), ("ukraine", "ceasefire")}


@pytest.mark.parametrize(
    "text",
    [
        "UEFA said it imposed sanctions on the Russian club after the match.",
        "Washington said the trade truce with Beijing would be extended by 90 days.",
        "The Kremlin said the Nobel Peace Prize had become a political tool.",
        "France said UN peacekeepers in Lebanon had come under fire.",
        "China said it opposed sanctions on Iran.",
        "Poland's president vetoed the bill on renewable energy, Warsaw said.",
    ],
)
def test_topic_words_in_other_senses_do_not_count(extractor: Extractor, text: str) -> None:
    assert extractor.extract(text) == []


def test_topics_are_judged_on_the_claim_not_the_item(extractor: Extractor) -> None:
    text = (
        "The ceasefire collapsed within hours. "
        "Erdogan said Turkey would buy more gas from Azerbaijan."
    )
    assert extractor.extract(text) == []


def test_a_background_sentence_with_topic_words_states_nothing(extractor: Extractor) -> None:
    assert extractor.extract("Sanctions on Russia have been in place since 2014.") == []


# --- stance --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("Tusk said Poland will not send troops to Ukraine.", Stance.OPPOSES),
        ("Tusk said Poland did not rule out sending troops to Ukraine.", Stance.NEUTRAL),
        ("Tusk said Poland is ready to send troops to Ukraine.", Stance.SUPPORTS),
        ("Tusk said Poland is considering sending troops to Ukraine.", Stance.NEUTRAL),
        ("Tusk said Poland is not contemplating sending troops to Ukraine.", Stance.OPPOSES),
        ("Tusk said Poland would never back a peacekeeping force.", Stance.OPPOSES),
        (
            "Tusk said Poland had no objection, but would not send troops to Ukraine.",
            Stance.OPPOSES,
        ),
    ],
)
def test_negation_hedges_and_double_negation(
    extractor: Extractor, text: str, stance: Stance
) -> None:
    assert only(extractor.extract(text), "poland", "peacekeeping").stance is stance


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("Lavrov said peacekeepers could come only with a UN mandate.", "only with"),
        ("Lavrov said peacekeepers are unacceptable unless Kyiv agrees to neutrality.", "unless"),
        ("Lavrov said there would be no peacekeepers until a treaty is signed.", "until"),
        ("Lavrov said peacekeepers could deploy provided that both sides agree.", "provided"),
        ("Lavrov said peacekeepers may stay as long as they are neutral.", "as long as"),
        (
            "Lavrov said peacekeepers would be accepted on condition that NATO stays out.",
            "on condition",
        ),
        (
            "Lavrov said peacekeepers are welcome only under a Security Council mandate.",
            "only under",
        ),
    ],
)
def test_conditions_make_a_stance_conditional_and_are_kept(
    extractor: Extractor, text: str, condition: str
) -> None:
    statement = only(extractor.extract(text), "russia", "peacekeeping")
    assert statement.stance is Stance.CONDITIONAL
    assert statement.condition is not None and statement.condition.startswith(condition)


def test_a_vague_if_is_not_a_condition(extractor: Extractor) -> None:
    text = "Starmer said Britain would deploy troops to Ukraine if necessary."
    assert only(extractor.extract(text), "united-kingdom", "peacekeeping").stance is Stance.SUPPORTS


def test_a_threat_gives_a_conditional_instrument_and_a_supported_demand(
    extractor: Extractor,
) -> None:
    text = "Trump threatened new sanctions on Russia unless Moscow agrees to a ceasefire."
    found = extractor.extract(text)
    assert only(found, "united-states", "sanctions").stance is Stance.CONDITIONAL
    assert only(found, "united-states", "ceasefire").stance is Stance.SUPPORTS


def test_denying_a_report_is_not_opposition(extractor: Extractor) -> None:
    text = "The Kremlin denied reports that Putin had agreed to a ceasefire."
    statement = only(extractor.extract(text), "russia", "ceasefire")
    assert statement.stance is Stance.NEUTRAL


def test_calling_to_strip_the_veto_opposes_it(extractor: Extractor) -> None:
    text = "Zelensky called for Russia to be stripped of its veto power."
    assert only(extractor.extract(text), "ukraine", "un-veto").stance is Stance.OPPOSES


# --- why -----------------------------------------------------------------------


def test_each_statement_keeps_why_it_matched(extractor: Extractor) -> None:
    text = "Kallas warned that the EU would impose sanctions only if talks failed."
    statement = only(extractor.extract(text), "european-union", "sanctions")
    assert statement.cue == "warned"
    assert statement.alias == "Kallas"
    assert statement.topic_words == ("sanctions",)
    assert statement.condition == "only if talks failed"
    assert statement.carried is False
    assert statement.claim == text


# --- output shape and limits ---------------------------------------------------


def test_one_extraction_per_actor_topic_and_sentence(extractor: Extractor) -> None:
    text = (
        "Russia rejects the ceasefire plan, Peskov said, and Moscow opposes any truce. "
        "Later Peskov said a ceasefire was possible only after elections."
    )
    found = [e for e in extractor.extract(text) if (e.actor, e.topic) == ("russia", "ceasefire")]
    assert len(found) == 2
    assert len({e.claim for e in found}) == 2


def test_tag_lists_actors_and_topics_anywhere(extractor: Extractor) -> None:
    actors, topics = extractor.tag(
        "The ceasefire collapsed.", title="Kyiv and Moscow trade blame; EU weighs sanctions"
    )
    assert actors == ("european-union", "russia", "ukraine")
    assert topics == ("ceasefire", "sanctions")


def test_text_beyond_the_cap_is_not_read(extractor: Extractor) -> None:
    filler = "The weather stayed calm. " * (MAX_CHARS // 25 + 10)
    text = filler + "Lavrov said Russia rejects any ceasefire."
    assert extractor.extract(text) == []
    assert extractor.extract("Lavrov said Russia rejects any ceasefire.") != []


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        '"',
        "“unclosed quote said Lavrov ceasefire",
        "?" * 100,
        "\x00\x1b[31m",
        "a" * 10_000,
    ],
)
def test_odd_text_gives_no_statements_and_no_error(extractor: Extractor, text: str) -> None:
    assert isinstance(extractor.extract(text, title=text), list)


# --- configuration -------------------------------------------------------------


def test_actors_people_and_topics_come_from_the_config() -> None:
    actors = [
        ActorSpec(
            "atlantis",
            "Atlantis",
            aliases=("Atlantis", "Poseidonia", "Atlantean"),
            people=(PersonSpec("Nerea Vance-Okoro", role="Foreign Minister"),),
        )
    ]
    topics = [
        TopicSpec(
            "fishing",
            "Fishing rights",
            keywords=("fishing quota",),
            patterns=(r"\bcatch\s+limits?\b",),
            exclude=(r"\bfishing\s+quota\s+game\b",),
        )
    ]
    extractor = Extractor(actors, topics)
    found = extractor.extract("Vance-Okoro said Poseidonia rejects the new catch limits.")
    assert [(e.actor, e.speaker, e.topic, e.stance) for e in found] == [
        ("atlantis", "Nerea Vance-Okoro", "fishing", Stance.OPPOSES)
    ]
    assert extractor.extract("Atlantis said the fishing quota game was fun.") == []


def test_thousands_of_extra_aliases_still_match_the_right_actor() -> None:
    base_actors, topics = load_default_specs()
    extra = [
        ActorSpec(f"extra-{i}", f"Extra {i}", aliases=(f"Zorblan{i}", f"Quivar Tesh{i}"))
        for i in range(2500)
    ]
    extractor = Extractor([*base_actors, *extra], topics)
    found = extractor.extract("Quivar Tesh1234 said it backs a ceasefire. Moscow rejected it.")
    assert ("extra-1234", "ceasefire") in pairs(found)


def test_the_default_specs_cover_the_evaluated_actors_and_topics() -> None:
    actors, topics = load_default_specs()
    assert {a.id for a in actors} == {
        "russia",
        "ukraine",
        "united-states",
        "france",
        "united-kingdom",
        "germany",
        "china",
        "nato",
        "united-nations",
        "european-union",
        "poland",
        "turkey",
        "hungary",
    }
    assert {t.id for t in topics} == {
        "peacekeeping",
        "nato-membership",
        "un-veto",
        "ceasefire",
        "sanctions",
    }
    assert all(a.people for a in actors)


# --- more attribution rules ------------------------------------------------------


def test_a_participial_aside_does_not_speak(extractor: Extractor) -> None:
    text = (
        "Zelensky, speaking alongside Starmer in London, said Ukraine needs a US backstop "
        "for any European force."
    )
    statement = only(extractor.extract(text), "ukraine", "peacekeeping")
    assert statement.stance is Stance.CONDITIONAL
    assert statement.condition is not None and statement.condition.endswith("a US backstop")


def test_a_proposal_rejected_by_two_capitals_gives_both(extractor: Extractor) -> None:
    text = (
        "Macron has floated sending Western troops to Ukraine, "
        "a proposal rejected by Berlin and Warsaw."
    )
    found = extractor.extract(text)
    assert only(found, "france", "peacekeeping").stance is Stance.SUPPORTS
    assert only(found, "germany", "peacekeeping").stance is Stance.OPPOSES
    assert only(found, "poland", "peacekeeping").stance is Stance.OPPOSES


def test_listed_subjects_all_state_the_position(extractor: Extractor) -> None:
    text = "Germany, Spain and Poland have ruled out taking part in such a mission in Ukraine."
    found = extractor.extract(text)
    assert pairs(found) == {("germany", "peacekeeping"), ("poland", "peacekeeping")}
    assert {e.stance for e in found} == {Stance.OPPOSES}


def test_a_rejection_of_the_initiative_takes_the_previous_topic(extractor: Extractor) -> None:
    text = "Orban proposed an immediate ceasefire during his visit. Kyiv rejected the initiative."
    found = extractor.extract(text)
    assert only(found, "hungary", "ceasefire").stance is Stance.SUPPORTS
    assert only(found, "ukraine", "ceasefire").stance is Stance.OPPOSES


def test_for_x_opens_a_position(extractor: Extractor) -> None:
    text = "For Guterres, the veto has paralysed the council. He called for limits on the veto."
    found = [
        e for e in extractor.extract(text) if (e.actor, e.topic) == ("united-nations", "un-veto")
    ]
    assert [(e.speaker, e.stance, e.carried) for e in found] == [
        ("António Guterres", Stance.OPPOSES, False),
        ("António Guterres", Stance.OPPOSES, True),
    ]


def test_a_supposition_is_not_a_statement(extractor: Extractor) -> None:
    text = '"We will see whether Putin is serious when he commits to a truce," Barrot said.'
    assert pairs(extractor.extract(text)) == {("france", "ceasefire")}


def test_a_gerund_after_a_preposition_is_not_the_subject_s_act(extractor: Extractor) -> None:
    text = "Lawmakers criticised President Biden for not imposing sanctions on Russian banks."
    assert extractor.extract(text) == []


def test_a_dateline_is_not_a_speaker(extractor: Extractor) -> None:
    text = "MOSCOW (Reuters) - Farmers said the new sanctions had raised fertiliser prices."
    assert extractor.extract(text) == []


def test_a_circumstance_in_a_condition_is_not_a_position(extractor: Extractor) -> None:
    text = "Turkey has said it could take part in a peacekeeping mission if a ceasefire is reached."
    found = extractor.extract(text)
    assert pairs(found) == {("turkey", "peacekeeping")}
    assert found[0].stance is Stance.CONDITIONAL


def test_a_condition_that_opens_the_claim_ends_at_its_comma(extractor: Extractor) -> None:
    text = (
        '"Without guarantees, any ceasefire will only give Russia time to regroup," Zelensky said.'
    )
    statement = only(extractor.extract(text), "ukraine", "ceasefire")
    assert statement.stance is Stance.CONDITIONAL
    assert statement.condition == "Without guarantees"


def test_a_headline_label_before_a_colon_is_not_a_speaker(extractor: Extractor) -> None:
    found = extractor.extract("", title="Ukraine war: General Assembly passes ceasefire resolution")
    assert found == []


def test_an_item_about_another_war_states_nothing_about_these_topics(
    extractor: Extractor,
) -> None:
    text = (
        "Israel and Hamas traded accusations on Sunday. France said the ceasefire must hold, "
        "and Britain called for new sanctions on Iran."
    )
    assert extractor.extract(text) == []


# --- rules found by measuring on passages written apart from the code ----------


@pytest.mark.parametrize(
    "text",
    [
        "Turkey will not send soldiers to Ukraine, a government spokesman said.",
        "Turkey will not send soldiers to Ukraine, the defence minister said on Friday.",
        "Turkey will not send soldiers to Ukraine, Defence Minister Ayse Demirtas said.",
    ],
)
def test_an_official_the_config_does_not_know_speaks_for_the_actor_the_claim_opens_with(
    extractor: Extractor, text: str
) -> None:
    statement = only(extractor.extract(text), "turkey", "peacekeeping")
    assert statement.stance is Stance.OPPOSES
    assert statement.speaker is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia is not interested in a ceasefire, a Western diplomat said.",
        "Russia is not interested in a ceasefire, an analyst at a Berlin think tank said.",
        "Russia's offer of a ceasefire is a trick, a government spokesman said.",
    ],
)
def test_an_outsider_or_a_possessive_does_not_make_the_claim_the_actor_s(
    extractor: Extractor, text: str
) -> None:
    assert extractor.extract(text) == []


def test_adding_that_does_not_take_the_claim_before_the_speaker_away(
    extractor: Extractor,
) -> None:
    text = (
        "Warsaw will never put Polish soldiers on the ground in Ukraine, Tusk said on Monday, "
        "adding that Poland would instead run the logistics hub for a European force."
    )
    statement = only(extractor.extract(text), "poland", "peacekeeping")
    assert statement.stance is Stance.OPPOSES
    assert statement.speaker == "Donald Tusk"


@pytest.mark.parametrize(
    "text",
    [
        "Macron said French soldiers could be deployed to Ukraine within weeks of a deal.",
        "Macron said France was ready to put troops on the ground in Ukraine.",
        "Macron said France would join a security force stationed in Ukraine after the war.",
    ],
)
def test_troops_deployed_to_ukraine_is_the_peacekeeping_topic(
    extractor: Extractor, text: str
) -> None:
    assert only(extractor.extract(text), "france", "peacekeeping").stance is Stance.SUPPORTS


@pytest.mark.parametrize(
    "text",
    [
        "Peskov said Russian troops in Ukraine were advancing near Pokrovsk.",
        "Zelensky said Ukrainian forces in Ukraine's east had repelled an attack.",
    ],
)
def test_the_warring_armies_are_not_a_peacekeeping_force(extractor: Extractor, text: str) -> None:
    assert "peacekeeping" not in {e.topic for e in extractor.extract(text)}


def test_opposing_nato_expansion_is_the_membership_topic(extractor: Extractor) -> None:
    text = "Lavrov said Moscow would keep resisting NATO's eastward expansion toward its borders."
    assert "nato-membership" in {e.topic for e in extractor.extract(text)}
    text = "Putin said NATO's expansion to Finland changed nothing for Russia."
    assert "nato-membership" not in {e.topic for e in extractor.extract(text)}


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        (
            "Lavrov said Moscow wants a written promise that Ukraine will never join NATO.",
            Stance.OPPOSES,
        ),
        ("Sybiha said Kyiv would never drop its NATO bid.", Stance.SUPPORTS),
        ("Sybiha rejected demands that Ukraine never join NATO.", Stance.SUPPORTS),
    ],
)
def test_a_negated_topic_turns_the_claim_s_leaning_over(
    extractor: Extractor, text: str, stance: Stance
) -> None:
    found = extractor.extract(text)
    assert [e.stance for e in found if e.topic == "nato-membership"] == [stance]


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("China dismissed proposals to curb the veto power of permanent members.", Stance.SUPPORTS),
        ("China dismissed proposals for a UN resolution, calling them biased.", Stance.OPPOSES),
        ("China rejected calls to end the war in Ukraine.", Stance.OPPOSES),
        (
            "Starmer said permanent members should refrain from using their veto on Ukraine.",
            Stance.OPPOSES,
        ),
    ],
)
def test_rejecting_a_move_against_the_topic_defends_it(
    extractor: Extractor, text: str, stance: Stance
) -> None:
    found = extractor.extract(text)
    assert len(found) == 1 and found[0].stance is stance, found


def test_threatening_a_veto_opposes(extractor: Extractor) -> None:
    found = extractor.extract("", title="China threatens veto over European force for Ukraine")
    assert {(e.topic, e.stance) for e in found} == {
        ("un-veto", Stance.OPPOSES),
        ("peacekeeping", Stance.OPPOSES),
    }


def test_a_power_to_act_is_not_an_act(extractor: Extractor) -> None:
    text = "Russia and China can block any resolution in the Security Council with a single vote."
    assert extractor.extract(text) == []
    text = "Russia blocked the resolution in the Security Council with a single vote."
    assert only(extractor.extract(text), "russia", "un-veto").stance is Stance.OPPOSES


def test_a_condition_before_the_speaker_leaves_the_cue_out(extractor: Extractor) -> None:
    text = "Germany would send troops to Ukraine only with a UN mandate, Merz said."
    statement = only(extractor.extract(text), "germany", "peacekeeping")
    assert statement.condition == "only with a UN mandate"


def test_a_sanction_threat_over_a_refused_ceasefire_supports_the_ceasefire(
    extractor: Extractor,
) -> None:
    text = "Britain will impose new sanctions on Russia if Moscow keeps refusing a ceasefire."
    found = extractor.extract(text)
    assert only(found, "united-kingdom", "sanctions").stance is Stance.CONDITIONAL
    assert only(found, "united-kingdom", "ceasefire").stance is Stance.SUPPORTS


def test_deciding_at_the_appropriate_time_is_neutral(extractor: Extractor) -> None:
    text = "Berlin will decide on Ukraine's NATO bid at the appropriate time, Merz said."
    assert only(extractor.extract(text), "germany", "nato-membership").stance is Stance.NEUTRAL


def test_topic_words_after_the_speaker_in_a_time_clause_do_not_take_the_claim(
    extractor: Extractor,
) -> None:
    text = (
        "Ankara rejects the new sanctions, Fidan said on Tuesday, after Washington put two "
        "Turkish banks on its blacklist."
    )
    assert only(extractor.extract(text), "turkey", "sanctions").stance is Stance.OPPOSES
    text = "On sanctions, Fidan said that Ankara would back a ceasefire first."
    assert pairs(extractor.extract(text)) == {("turkey", "ceasefire")}


def test_an_agent_after_a_participle_backs_the_noun_before_it(extractor: Extractor) -> None:
    text = "China vetoed a resolution sponsored by France that demanded aid corridors."
    found = extractor.extract(text)
    assert only(found, "china", "un-veto").stance is Stance.OPPOSES
    assert only(found, "france", "un-veto").stance is Stance.SUPPORTS


def test_a_participle_after_a_quote_claims_what_follows_it(extractor: Extractor) -> None:
    text = (
        '"Five countries cannot hold the world hostage," Fidan told the General Assembly, '
        "calling for the veto power to be abolished."
    )
    assert only(extractor.extract(text), "turkey", "un-veto").stance is Stance.OPPOSES


def test_sanctioned_in_the_sense_of_approved_is_not_the_topic(extractor: Extractor) -> None:
    text = "Germany's transport ministry has sanctioned a trial of driverless buses in Hamburg."
    assert extractor.extract(text) == []


def test_a_monitoring_mission_in_ukraine_is_the_peacekeeping_topic(extractor: Extractor) -> None:
    text = "Barrot said France was studying a possible observer mission in Ukraine."
    assert only(extractor.extract(text), "france", "peacekeeping").stance is Stance.NEUTRAL


def test_a_single_quoted_claim_before_its_speaker_is_the_claim(extractor: Extractor) -> None:
    text = "'We will never accept a truce on these terms,' Sybiha said in Kyiv."
    assert only(extractor.extract(text), "ukraine", "ceasefire").stance is Stance.OPPOSES


def test_a_cue_word_after_a_named_modifier_is_a_noun(extractor: Extractor) -> None:
    text = (
        "Warsaw will not join any truce talks without UN backing, a Polish government "
        "spokesman said."
    )
    found = extractor.extract(text)
    assert pairs(found) == {("poland", "ceasefire")}


def test_a_foreign_policy_chief_is_one_title(extractor: Extractor) -> None:
    text = "The EU will back a 30-day ceasefire, foreign policy chief Kaja Kallas said."
    statement = only(extractor.extract(text), "european-union", "ceasefire")
    assert statement.speaker == "Kaja Kallas"
    assert statement.stance is Stance.SUPPORTS


@pytest.mark.parametrize(
    ("text", "actor", "topic"),
    [
        (
            "Fidan said no Turkish soldier would be stationed on Ukrainian territory.",
            "turkey",
            "peacekeeping",
        ),
        (
            "Lavrov said Moscow rejects troops of any Western state on Ukrainian soil.",
            "russia",
            "peacekeeping",
        ),
        (
            "Barrot said German contingents would move into Ukraine after a deal.",
            "france",
            "peacekeeping",
        ),
        (
            "Healey said British soldiers would only be deployed with a US backstop.",
            "united-kingdom",
            "peacekeeping",
        ),
        (
            "Guterres said a UN presence in Ukraine needs a Security Council mandate.",
            "united-nations",
            "peacekeeping",
        ),
        ("Sybiha said a Western contingent would deter Russia.", "ukraine", "peacekeeping"),
        (
            "Duda said Kyiv's road into the Alliance could not be blocked by Moscow.",
            "poland",
            "nato-membership",
        ),
        ("Duda said Ukraine belongs in NATO.", "poland", "nato-membership"),
        ("Peskov said a halt to hostilities was not on the agenda.", "russia", "ceasefire"),
        ("Fidan said Ankara was ready to help silence the guns.", "turkey", "ceasefire"),
        ("Tusk said new restrictions on Moscow were coming.", "poland", "sanctions"),
        (
            "Tusk said the EU would keep tightening the screws on the Kremlin.",
            "poland",
            "sanctions",
        ),
        ("Tusk called for a lower cap on the price of Russian oil.", "poland", "sanctions"),
    ],
)
def test_more_ways_to_name_each_topic(
    extractor: Extractor, text: str, actor: str, topic: str
) -> None:
    assert (actor, topic) in pairs(extractor.extract(text))


@pytest.mark.parametrize(
    "text",
    [
        "Zelensky said Russian forces on Ukrainian soil had shelled Kharkiv.",
        "Hegseth said American troops would be sent to Poland next spring.",
    ],
)
def test_armies_at_war_or_sent_elsewhere_are_not_peacekeepers(
    extractor: Extractor, text: str
) -> None:
    assert "peacekeeping" not in {e.topic for e in extractor.extract(text)}


def test_a_contingent_on_the_ground_is_no_condition(extractor: Extractor) -> None:
    text = "A Western contingent on the ground would deter Moscow, Sybiha said."
    statement = only(extractor.extract(text), "ukraine", "peacekeeping")
    assert statement.stance is Stance.SUPPORTS and statement.condition is None


def test_as_long_as_it_takes_is_no_condition(extractor: Extractor) -> None:
    text = "Britain will keep its sanctions on Russia for as long as it takes, Lammy said."
    statement = only(extractor.extract(text), "united-kingdom", "sanctions")
    assert statement.stance is Stance.SUPPORTS and statement.condition is None


def test_a_proposal_rejected_by_an_agent_is_opposed_by_it(extractor: Extractor) -> None:
    text = "The proposal for an Easter truce was rejected by Moscow on Saturday."
    assert only(extractor.extract(text), "russia", "ceasefire").stance is Stance.OPPOSES


def test_brushing_aside_is_rejecting(extractor: Extractor) -> None:
    text = "Fidan brushed aside the idea of sending Turkish troops to Ukraine."
    assert only(extractor.extract(text), "turkey", "peacekeeping").stance is Stance.OPPOSES


def test_a_matter_for_others_is_neutral(extractor: Extractor) -> None:
    text = "Wang Yi said Ukraine's NATO membership was a matter for Kyiv and the allies."
    assert only(extractor.extract(text), "china", "nato-membership").stance is Stance.NEUTRAL


def test_needing_a_mandate_is_a_condition(extractor: Extractor) -> None:
    text = "Fidan said any European force in Ukraine would need a Security Council mandate."
    statement = only(extractor.extract(text), "turkey", "peacekeeping")
    assert statement.stance is Stance.CONDITIONAL
    assert statement.condition is not None and "mandate" in statement.condition


def test_on_condition_of_anonymity_is_no_condition(extractor: Extractor) -> None:
    text = "Poland, an official said on condition of anonymity, will send no troops to Ukraine."
    statement = only(extractor.extract(text), "poland", "peacekeeping")
    assert statement.stance is Stance.OPPOSES and statement.condition is None


@pytest.mark.parametrize(
    ("text", "actor", "topic", "stance"),
    [
        (
            "Fu Cong said Beijing would vote against the Western draft resolution.",
            "china",
            "un-veto",
            Stance.OPPOSES,
        ),
        (
            "Vance said Kyiv could forget about NATO membership.",
            "united-states",
            "nato-membership",
            Stance.OPPOSES,
        ),
        (
            "Barrot said the question of troops in Ukraine was a decision for each government.",
            "france",
            "peacekeeping",
            Stance.NEUTRAL,
        ),
        (
            "Lammy said new sanctions were costly, though London had not ruled them out.",
            "united-kingdom",
            "sanctions",
            Stance.NEUTRAL,
        ),
    ],
)
def test_more_words_that_lean(
    extractor: Extractor, text: str, actor: str, topic: str, stance: Stance
) -> None:
    assert only(extractor.extract(text), actor, topic).stance is stance


def test_a_refused_ceasefire_in_a_threat_is_demanded(extractor: Extractor) -> None:
    text = "Merz said Germany would push for new sanctions if Russia did not accept a ceasefire."
    found = extractor.extract(text)
    assert only(found, "germany", "sanctions").stance is Stance.CONDITIONAL
    assert only(found, "germany", "ceasefire").stance is Stance.SUPPORTS


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("Scholz said Ukraine cannot join NATO while the war is still going on.", "while"),
        (
            "Scholz said Germany backs Ukraine's NATO bid, but any formal invitation would have "
            "to wait for peace.",
            "but",
        ),
    ],
)
def test_more_conditions(extractor: Extractor, text: str, condition: str) -> None:
    statement = only(extractor.extract(text), "germany", "nato-membership")
    assert statement.stance is Stance.CONDITIONAL
    assert statement.condition is not None and statement.condition.startswith(condition)


def test_a_name_joined_to_an_object_is_an_object_too(extractor: Extractor) -> None:
    text = (
        "Kellogg, the envoy for Ukraine and Russia, said Washington would not send troops "
        "to Ukraine."
    )
    found = extractor.extract(text)
    assert pairs(found) == {("united-states", "peacekeeping")}
