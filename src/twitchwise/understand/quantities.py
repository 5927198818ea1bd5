"""Numbers, units and amounts in lay text.

Reads number words and digits ("two", "a couple of", "half a", "4-5", "38.7"), units glued to
numbers ("400mg", "38.7c", "28f"), and from them: caffeine (drinks counted with the knowledge
base's per-serving figures, or stated mg), hours of sleep, how long something has lasted
("for 3 weeks", "since Monday", "a couple of days", "2 days ago"), age, body and air
temperature, water drunk and weight lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from twitchwise.knowledge.schema import Lexicon as LexiconData
from twitchwise.understand.text import Token

_NUM = re.compile(r"^\d+(?:\.\d+)?$")
_GLUED = re.compile(r"^(\d+(?:\.\d+)?)([a-z°]+)$")
_DECADE = re.compile(r"^(\d0)s$")
#: "24+3": weeks and days of a pregnancy, as midwives write it
_GESTATION = re.compile(r"^(\d{1,2})\+([0-6])$")
#: "60+", "15+": at least that many
_AT_LEAST = re.compile(r"^(\d+)\+$")


#: "3rd", "4th": an ordinal number
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")
#: "NNf" at or above this is degrees Fahrenheit, not an age and a sex, beside a word for the
#: air ("92F outside"); at or above the next, unless a relative is named ("101F", "115F
#: today"; "my nan, 96f" is her age).
_HOT_F = 90
_HOTTER_F = 95
#: How far a word for the air ("kitchen", "outside") may be from a temperature.
_AIR_REACH = 6

#: The earliest year "since 2019" is read as a time.
_EARLIEST_YEAR = 1940


#: Days in a week: "all week" and longer spans are how long, "all day" is not.
_WEEK = 7


@dataclass(frozen=True, slots=True)
class QToken:
    norm: str
    index: int  # index of the source token


@dataclass(frozen=True, slots=True)
class Amount:
    value: float
    first: int  # token indices of the whole expression
    last: int
    ago: bool = False  # "3 days ago": a point in time, a duration only if something started then
    #: "since 2016": how long only of a finding said with it ("RRMS since 2016" says nothing
    #: of the twitch when the condition is not one the lexicon knows)
    needs_anchor: bool = False


@dataclass
class Quantities:
    drinks: list[tuple[str, float, float, int, int]] = field(default_factory=list)
    caffeine_mg_stated: list[Amount] = field(default_factory=list)
    sleep_h: list[Amount] = field(default_factory=list)
    durations: list[Amount] = field(default_factory=list)  # days
    ages: list[Amount] = field(default_factory=list)
    #: Ages of someone the writer names as theirs ("my 6 year old", "our 18-month-old"): the
    #: person the text is about when the writer gives no age of their own.
    ages_other: list[Amount] = field(default_factory=list)
    #: A baby's age in weeks or months after a relative word ("my son is 18 months", "baby's
    #: 6 weeks"): that person's age only when the text is about them (a new mother writing
    #: about her own twitch says how old her baby is).
    ages_baby: list[Amount] = field(default_factory=list)
    #: The sex of that person, when the word for them says it ("my husband (63)").
    sexes_other: list[tuple[str, int]] = field(default_factory=list)
    sexes: list[tuple[str, int]] = field(default_factory=list)
    body_temp_c: list[Amount] = field(default_factory=list)
    #: Weeks of a pregnancy written as weeks+days ("24+3").
    gestation: list[Amount] = field(default_factory=list)
    ambient_temp_c: list[Amount] = field(default_factory=list)
    water_l: list[Amount] = field(default_factory=list)
    weight_lost: list[Amount] = field(default_factory=list)
    #: Drinks of alcohol (about 2 UK units each) in one go, and per day when said as a rate.
    alcohol: list[Amount] = field(default_factory=list)
    alcohol_daily: list[Amount] = field(default_factory=list)

    @property
    def caffeine_mg(self) -> float | None:
        total = sum(mg for _, _, mg, _, _ in self.drinks)
        total += sum(a.value for a in self.caffeine_mg_stated)
        has_any = self.drinks or self.caffeine_mg_stated
        return total if has_any else None


_SENTENCE = frozenset({".", "!", "?", ";", ",", ":"})


class QuantityReader:
    def __init__(self, lexicon: LexiconData, drink_mg: dict[str, float]) -> None:
        self.numbers = dict(lexicon.number_words)
        self.units = dict(lexicon.time_units)
        self.weekdays = list(lexicon.weekdays)
        self.months = dict(lexicon.months)
        self.calendar_days = {k: (m, d) for k, (m, d) in lexicon.calendar_days.items()}
        self.containers = frozenset(lexicon.containers)
        self.sleep_words = frozenset(lexicon.sleep_words)
        self.body_words = frozenset(lexicon.body_temp_words)
        self.ambient_words = frozenset(lexicon.ambient_temp_words)
        self.relatives = frozenset(lexicon.relative_words)
        self.other_possessives = frozenset(lexicon.third_person_possessives)
        self.possessives = self.other_possessives | {"my"}
        self.sex_words = {w: "female" for w in lexicon.female_words} | {
            w: "male" for w in lexicon.male_words
        }
        self.alcohol_units = dict(lexicon.alcohol_units)
        self.alcohol_containers = dict(lexicon.alcohol_containers)
        self.alcohol_words = dict(lexicon.alcohol_words)
        self.drink_mg = drink_mg
        self.words = lexicon.quantity_words
        # before "day 5" / "week 2": not the day or week a thing is on
        self.not_a_count = (
            self.words.rate_words | self.words.whole_words | self.words.counted_not_after
        )

    # -- numbers

    def _split(self, tokens: list[Token]) -> list[QToken]:
        out: list[QToken] = []
        for i, tok in enumerate(tokens):
            glued = _GLUED.match(tok.norm)
            decade = _DECADE.match(tok.norm)
            at_least = _AT_LEAST.match(tok.norm)
            if at_least:  # "3+ months", "15+ drinks", "60+ and ...": the number
                out.append(QToken(at_least.group(1), i))
                continue
            start = int(decade.group(1)) if decade else self.words.decade_words.get(tok.norm)
            if start is not None:
                out.append(QToken(str(start + 5), i))
                out.append(QToken("decade", i))
            elif glued and not tok.norm.endswith(("st", "nd", "rd", "th")):
                out.append(QToken(glued.group(1), i))
                out.append(QToken(glued.group(2), i))
            else:
                out.append(QToken(tok.norm.replace(",", ""), i))
        return out

    def number_at(self, q: list[QToken], i: int) -> tuple[float, float, int] | None:
        """(low, high, index after) of a number starting at q[i]."""
        if i >= len(q):
            return None
        word = q[i].norm
        value: float | None = None
        j = i + 1
        if _NUM.match(word):
            value = float(word)
        elif word in ("a", "an") and j < len(q) and q[j].norm in ("couple", "few", "dozen"):
            value = self.numbers[q[j].norm]
            j += 1
        elif word == "half" and j < len(q) and q[j].norm in ("a", "an"):
            value, j = 0.5, j + 1
        elif word in self.numbers:
            value = self.numbers[word]
            # "twenty five", "one and a half"
            if j < len(q) and value >= 20 and value % 10 == 0 and q[j].norm in self.numbers:
                extra = self.numbers[q[j].norm]
                if 1 <= extra <= 9:
                    value, j = value + extra, j + 1
        if value is None:
            return None
        if (
            j + 2 < len(q)
            and q[j].norm == "and"
            and q[j + 1].norm in ("a", "an")
            and q[j + 2].norm == "half"
        ):
            value, j = value + 0.5, j + 3
        if j < len(q) and q[j].norm == "of":
            j += 1
        low = high = value
        # ranges: "4-5" (hyphen dropped), "4 or 5", "4 to 5"
        if (
            j < len(q)
            and q[j].norm in ("or", "to")
            and j + 1 < len(q)
            and _NUM.match(q[j + 1].norm)
        ):
            high, j = float(q[j + 1].norm), j + 2
        elif j < len(q) and _NUM.match(q[j].norm) and q[j].index == q[i].index + 1:
            other = float(q[j].norm)
            if other > value and other < value * 4:
                high, j = other, j + 1
        return low, high, j

    # -- reading

    def read(
        self,
        tokens: list[Token],
        drinks: list[tuple[str, int, int]],
        blocked: Callable[[int], bool],
        today: date,
    ) -> Quantities:
        q = self._split(tokens)
        out = Quantities()
        self._drinks(q, tokens, drinks, blocked, out)
        by_index: dict[int, int] = {}
        for k, qt in enumerate(q):
            by_index.setdefault(qt.index, k)
        k = 0
        while k < len(q):
            if blocked(q[k].index):
                k += 1
                continue
            k = self._at(q, k, out, today)
        return out

    def _drinks(
        self,
        q: list[QToken],
        tokens: list[Token],
        drinks: list[tuple[str, int, int]],
        blocked: Callable[[int], bool],
        out: Quantities,
    ) -> None:
        first_q: dict[int, int] = {}
        for k, qt in enumerate(q):
            first_q.setdefault(qt.index, k)
        used_mg: set[int] = set()
        for drink_id, first, last in drinks:
            if blocked(first):
                continue
            count: float | None = None
            k = first_q[first] - 1
            steps = 0
            while k >= 0 and steps < 4 and q[k].norm in self.containers:
                k -= 1
                steps += 1
            # the number is at or just before k
            for start in (k, k - 1, k - 2):
                if start < 0:
                    continue
                parsed = self.number_at(q, start)
                if parsed and parsed[2] > k:
                    count = parsed[1]
                    break
            if count is None or count <= 0 or count > 30:
                continue  # a mention without an amount: caffeine_any only
            mg = count * self.drink_mg[drink_id]
            # a stated amount right after the drink replaces the estimate: "2 scoops (400 mg)"
            kq = first_q.get(last, 0)
            for j in range(kq + 1, min(kq + 8, len(q) - 1)):
                if _NUM.match(q[j].norm) and q[j + 1].norm in self.words.mg_units:
                    mg = float(q[j].norm)
                    if self._each(q, j + 2):  # "4 energy drinks (200mg each)"
                        mg *= count
                    used_mg.add(j)
                    break
                if q[j].norm in (".", ";"):
                    break
            out.drinks.append((drink_id, count, mg, first, last))
        for j in range(len(q) - 1):
            if (
                j in used_mg
                or not _NUM.match(q[j].norm)
                or q[j + 1].norm not in self.words.mg_units
            ):
                continue
            window = {q[x].norm for x in range(max(0, j - 4), min(len(q), j + 5))}
            if "caffeine" in window and not blocked(q[j].index):
                out.caffeine_mg_stated.append(Amount(float(q[j].norm), q[j].index, q[j + 1].index))

    def _at(self, q: list[QToken], k: int, out: Quantities, today: date) -> int:
        word = q[k].norm
        gestation = _GESTATION.match(word)
        low_week, high_week = self.words.gestation_weeks
        if gestation and low_week <= int(gestation.group(1)) <= high_week:
            # "24+3 with my first", "36+2 and my tummy tightens": how far along a pregnancy is
            out.gestation.append(Amount(float(gestation.group(1)), q[k].index, q[k].index))
            return k + 1
        # "my husband (63, on lithium)", "Mum, 84,", "my mother, 74 years", "he is 80 years"
        if word in self.relatives:
            j = k + 1
            while j < len(q) and j - k <= 3 and q[j].norm in self.words.age_glue:
                j += 1
            if j < len(q) and _NUM.match(q[j].norm):
                years = float(q[j].norm)
                nxt = q[j + 1].norm if j + 1 < len(q) else ""
                if nxt in self.words.child_age_units and 0 < years <= 36:
                    # "my son is 18 months", "my son (18mo)", "our baby, 6 weeks": a baby's age
                    out.ages_baby.append(
                        Amount(years * self.words.child_age_units[nxt], q[k].index, q[j + 1].index)
                    )
                    return j + 2
                if (
                    1 <= years <= 110
                    and nxt not in self.words.mg_units
                    and (nxt not in self.units or nxt in ("year", "years", "yr", "yrs"))
                ):
                    out.ages_other.append(Amount(years, q[k].index, q[j].index))
                    sex = self.sex_words.get(word)
                    if sex:
                        out.sexes_other.append((sex, q[k].index))
                    return j + 1
        # "68." alone as a sentence: an age
        if (
            _NUM.match(word)
            and (k == 0 or q[k - 1].norm in (".", "!", "?", ""))
            and (k + 1 == len(q) or q[k + 1].norm in (".", "!", "?"))
            and 12 <= float(word) <= 110
        ):
            self._age(float(word), q[k].index, q[k].index, out)
            return k + 1
        # age: "i am 61", "61 year old", "aged 61", "28f", "in my 60s"
        if word in self.words.sex_letters and k + 1 < len(q) and _NUM.match(q[k + 1].norm):
            years = float(q[k + 1].norm)
            nxt = q[k + 2].norm if k + 2 < len(q) else ""
            if 1 <= years <= 110 and nxt not in self.units and nxt not in self.words.mg_units:
                self._age(years, q[k].index, q[k + 1].index, out)
                out.sexes.append((self.words.sex_letters[word], q[k].index))
                return k + 2
        if word in ("aged", "age") and k + 1 < len(q) and _NUM.match(q[k + 1].norm):
            self._age(float(q[k + 1].norm), q[k].index, q[k + 1].index, out)
            return k + 2
        if word == "i" and k + 2 < len(q) and q[k + 1].norm == "am" and _NUM.match(q[k + 2].norm):
            nxt = q[k + 3].norm if k + 3 < len(q) else ""
            if (
                nxt not in self.units
                and nxt not in self.words.mg_units
                and nxt not in self.words.weight_units
                and nxt != "weeks"
            ):
                self._age(float(q[k + 2].norm), q[k].index, q[k + 2].index, out)
                if nxt in ("f", "m"):
                    out.sexes.append(("female" if nxt == "f" else "male", q[k + 3].index))
                return k + 3
        if word == "in" and k + 3 < len(q) and q[k + 1].norm == "my" and q[k + 3].norm == "decade":
            self._age(float(q[k + 2].norm), q[k].index, q[k + 3].index, out)
            return k + 4
        placed = (
            self._in_a_decade(q, k, out)
            or self._count_of_days(q, k, out)
            or self._school_year(q, k, out)
        )
        if placed:
            return placed
        if word in self.words.age_approach and k + 1 < len(q) and _NUM.match(q[k + 1].norm):
            # "pushing 70 and...", "just turned 60, ...": an age, when nothing makes it an amount
            years = float(q[k + 1].norm) + self.words.age_approach[word]
            nxt = q[k + 2].norm if k + 2 < len(q) else ""
            if 12 <= years <= 110 and nxt in self.words.age_tail:
                self._age_of(years, q, k, q[k + 1].index, out)
                return k + 2
        opening = self.number_at(q, 0) if k == 0 else None
        if opening is not None and opening[0] == opening[1]:
            years, j = opening[0], opening[2]
            if (
                12 <= years <= 110
                and years == int(years)
                and j + 1 < len(q)
                and q[j].norm in ("", "and")
                and not _NUM.match(q[j + 1].norm)
                and q[j + 1].norm not in ("a", "an", "half")
                and self.number_at(q, j + 1) is None
            ):
                # a text that opens with a number and goes on ("56 and getting cramps", "45, calf
                # twitching", "twenty-nine, healthy"): the writer's age
                self._age(years, q[0].index, q[j - 1].index, out)
                return j
        parsed = self.number_at(q, k)
        if parsed is None:
            return self._since(q, k, out, today)
        low, high, j = parsed
        unit = q[j].norm if j < len(q) else ""
        after = q[j + 1].norm if j + 1 < len(q) else ""
        prev = q[k - 1].norm if k > 0 else ""
        first, last = q[k].index, q[min(j, len(q) - 1)].index
        if unit in ("f", "c") and (
            self._near(q, k, self.body_words, 3)
            or (
                unit == "f"
                and low >= _HOT_F
                and (
                    self._near(q, k, self.ambient_words, _AIR_REACH)
                    or (low >= _HOTTER_F and not self._near(q, k, self.relatives, 4))
                )
            )
        ):
            # "101F", "115F today": a temperature, never an age and a sex
            self._temperature(q, k, j, low, out)
            return j + 1
        if _NUM.match(word) and unit in ("f", "m") and q[j].index == q[k].index:
            # "28f", "35m"
            self._age(low, first, last, out)
            out.sexes.append(("female" if unit == "f" else "male", first))
            return j + 1
        person = (
            unit
            if unit in self.words.person_sex
            else (after if unit in ("years", "year", "yrs") else "")
        )
        if _NUM.match(word) and person in self.words.person_sex and 12 <= low <= 110:
            # "52 F", "44 woman", "81 years lady", "60 years man"
            self._age(low, first, q[min(j + (1 if unit != person else 0), len(q) - 1)].index, out)
            out.sexes.append((self.words.person_sex[person], first))
            return j + 1
        years_per = self.words.age_units.get(unit)
        if (
            years_per == 1
            and (prev in self.words.writer_age_lead or self._said_after_i_am(q, k, after))
            and after not in self.words.ago
            and 10 <= low <= 110
            and _NUM.match(word)
        ):
            # "I am 35 years" (without "old"), "aged 70 years", "I am from Poland, 35 years.":
            # the writer's age, not how long
            self._age(low, first, last, out)
            return j + 1
        if years_per is not None and (after == "old" or unit in self.words.age_glued):
            someone_else = prev in ("my", "our") or bool(
                {q[x].norm for x in range(max(0, k - 4), k)} & self.relatives
            )
            end = q[min(j + (0 if unit in self.words.age_glued else 1), len(q) - 1)].index
            if not someone_else and years_per == 1:
                self._age(low, first, end, out)
            elif someone_else and 0 < low * years_per <= 110:
                out.ages_other.append(Amount(low * years_per, first, end))
            elif years_per < 1 and 0 < low * years_per <= 3:
                # "18 month old has had d&v", "DD is 7 weeks old": a baby, never the writer;
                # their age counts when the text is about the baby
                out.ages_baby.append(Amount(low * years_per, first, end))
            return j + (1 if unit in self.words.age_glued else 2)
        if (
            unit in self.words.hour_units
            and self._near(q, k, self.sleep_words, 5)
            and after not in self.words.ago | self.words.event_relative
        ):
            out.sleep_h.append(Amount((low + high) / 2, first, last))
            return j + 1
        # minutes count only as a point in time ("20 minutes ago"): "20 minutes" alone is how
        # long one episode lasts, not how long the problem has gone on
        if unit in self.units and (self.units[unit] >= 0.04 or after in self.words.ago):
            if after in self.words.event_relative and prev not in ("for", "past", "last", "since"):
                return j + 1
            if after in self.words.gestation or (
                after == "with" and unit in self.words.week_units and self._next_is_baby(q, j + 2)
            ):
                # "32 weeks pregnant", "22 weeks with my first": how far along, not how long
                return j + 1
            if (prev in ("in", "next", "within") and after not in self.words.ago) or (
                after in self.words.future_tail
            ):
                return j + 1  # "a check-up in 3 months", "2 weeks away": the future
            if (
                high > 1
                and not unit.endswith("s")
                and after.isalpha()
                and after not in self.words.duration_tail
                and prev not in self.words.duration_lead
            ):
                return j + 1  # "my 6 week check", "the 12 week scan": a name, not how long
            then = q[j + 2].norm if j + 2 < len(q) else ""
            if after in self.words.rate_words and (
                then in self.units or then in ("fortnight", "weekend")
            ):
                return j + 1  # "I train 5 days a week": how often, not how long
            if (
                word in self.words.rate_words
                and j == k + 1  # "a day", "per week"; not "a couple of months"
                and after not in self.words.ago
                and prev
                and prev not in self.words.duration_lead
                and prev not in _SENTENCE
            ):
                return j + 1  # "5 hours a night", "3 coffees a day": a rate, not a duration
            days = high * self.units[unit]
            if self._and_a_half(q, j + 1):  # "a week and a half"
                days += 0.5 * self.units[unit]
                j, after = j + 3, q[j + 4].norm if j + 4 < len(q) else ""
                last = q[j].index
            ago = after in self.words.ago
            out.durations.append(
                Amount(days, self._lead(q, k), q[j + 1].index if ago else last, ago=ago)
            )
            return j + 1
        if self._alcohol(q, k, j, high, out):
            return j + 1
        if unit in self.words.mg_units:
            return j + 1
        if unit in self.words.litre_units:
            nearby = {q[x].norm for x in range(j + 1, min(len(q), j + 4))}
            if nearby & self.words.water_words:
                out.water_l.append(Amount(high, first, last))
            return j + 1
        if unit in self.words.weight_units and prev in ("lost", "dropped", "lose", "losing"):
            out.weight_lost.append(
                Amount(high * self.words.weight_units[unit], q[k - 1].index, last)
            )
            return j + 1
        self._temperature(q, k, j, low, out)
        return max(j, k + 1)

    @staticmethod
    def _said_after_i_am(q: list[QToken], k: int, after: str) -> bool:
        """ "N years" alone between commas or a comma and a full stop (a comma is "" here), in a
        sentence that said "I am" just before ("Hello, I am from Poland, 35 years.")."""
        if k == 0 or q[k - 1].norm not in ("", ",") or after not in (".", ",", "!", ""):
            return False
        words = []
        for x in range(k - 2, max(-1, k - 12), -1):
            if q[x].norm in (".", "!", "?"):
                break
            words.append(q[x].norm)
        words.reverse()
        return any(words[i : i + 2] == ["i", "am"] for i in range(len(words) - 1))

    def _next_is_baby(self, q: list[QToken], k: int) -> bool:
        """After "N weeks with": "my first", "our second", "#2", "number 3", "twins"."""
        words = [x.norm for x in q[k : k + 3]]
        if words[:1] in (["my"], ["our"]):
            words = words[1:]
        return bool(words) and (
            words[0] in self.words.baby_words or words[0] == "#" or words[0].lstrip("#").isdigit()
        )

    def _alcohol(self, q: list[QToken], k: int, j: int, count: float, out: Quantities) -> bool:
        """Drinks of alcohol: "12 pints", "8 or 9 drinks", "half a bottle of whisky a day"."""
        unit = q[j].norm if j < len(q) else ""
        end = j
        drinks: float | None = None
        if unit in self.alcohol_units:
            drinks = count * self.alcohol_units[unit]
            nxt = q[j + 1].norm if j + 1 < len(q) else ""
            if nxt == "of" and j + 2 < len(q) and q[j + 2].norm in self.alcohol_words:
                end = j + 2
        elif unit in self.alcohol_containers:
            for x in range(j + 1, min(len(q), j + 4)):
                if q[x].norm in self.alcohol_words:
                    per = self.alcohol_words[q[x].norm] if unit.startswith("bottle") else 1.0
                    drinks, end = count * self.alcohol_containers[unit] * per, x
                    break
        if drinks is None:
            return False
        amount = Amount(drinks, q[k].index, q[end].index)
        out.alcohol.append(amount)
        after = " ".join(q[x].norm for x in range(end + 1, min(len(q), end + 3)))
        if after.split(" ")[0] in ("daily", "nightly") or after in self.words.daily:
            out.alcohol_daily.append(amount)
        return True

    def _in_a_decade(self, q: list[QToken], k: int, out: Quantities) -> int:
        """ "late 60s", "in my early seventies", "in her mid-80s": an age placed in a decade;
        the index after it, or 0."""
        j = k
        if q[j].norm == "in" and j + 1 < len(q) and q[j + 1].norm in self.possessives:
            j += 2
        if j >= len(q) or q[j].norm not in self.words.decade_parts:
            return 0
        offset = self.words.decade_parts[q[j].norm]
        j += 1
        if j + 1 >= len(q) or q[j + 1].norm != "decade" or not _NUM.match(q[j].norm):
            return 0
        years = float(q[j].norm) - 5 + offset
        self._age_of(years, q, k, q[j + 1].index, out)
        return j + 2

    def _age_of(self, years: float, q: list[QToken], k: int, last: int, out: Quantities) -> None:
        """An age said at ``q[k]``: someone else's when a relative or "his"/"her" comes just
        before it ("my dad, late 70s", "in her mid-80s"), else the writer's."""
        before = {q[x].norm for x in range(max(0, k - 4), k + 2)}
        if before & (self.relatives | self.other_possessives):
            if 1 <= years <= 110:
                out.ages_other.append(Amount(years, q[k].index, last))
        else:
            self._age(years, q[k].index, last, out)

    def _age(self, years: float, first: int, last: int, out: Quantities) -> None:
        if 1 <= years <= 110:
            out.ages.append(Amount(years, first, last))

    def _near(self, q: list[QToken], k: int, words: frozenset[str], window: int) -> bool:
        lo, hi = max(0, k - window), min(len(q), k + window + 1)
        for x in range(lo, hi):
            if q[x].norm in (".", "!", "?", ";") and x != k:
                if x < k:
                    lo = x
                else:
                    hi = x
        return any(q[x].norm in words for x in range(lo, hi))

    def _school_year(self, q: list[QToken], k: int, out: Quantities) -> int:
        """ "my son is in year 9", "Year 11, revising for GCSEs", "she's in 3rd grade": a school
        year, so a child's age (someone else's after a relative word). The index after it, or
        0."""
        word = q[k].norm
        nxt = q[k + 1].norm if k + 1 < len(q) else ""
        years = self.words.school_years
        if word in years and nxt.isdigit():  # "year 9", "grade 3"
            number, add, end = int(nxt), years[word], k + 1
        elif (ordinal := _ORDINAL.match(word)) and nxt in years:  # "3rd grade"
            number, add, end = int(ordinal.group(1)), years[nxt], k + 1
        else:
            return 0
        after = q[end + 1].norm if end + 1 < len(q) else ""
        if not 1 <= number <= self.words.school_last_year or after in self.words.school_not:
            return 0
        self._age_of(float(number) + add, q, k, q[end].index, out)
        return end + 1

    def _each(self, q: list[QToken], j: int) -> bool:
        """An amount said of each one, in the few words from ``q[j]``: "(200mg each)", "350mg
        caffeine per scoop" (not "per day": that is the total)."""
        for x in range(j, min(j + 3, len(q))):
            word = q[x].norm
            if word in self.words.each_words:
                return True
            if word == "per":
                nxt = q[x + 1].norm if x + 1 < len(q) else ""
                return nxt not in self.units and nxt not in self.words.rate_units
        return False

    @staticmethod
    def _and_a_half(q: list[QToken], j: int) -> bool:
        return [x.norm for x in q[j : j + 3]] == ["and", "a", "half"]

    def _count_of_days(self, q: list[QToken], k: int, out: Quantities) -> int:
        """ "day 5 of a twitchy eyelid", "Day 4, chest twitching", "week 2 of sertraline": the
        day or week a thing is on, as how long it has gone on; "week and a half of my eye doing
        it" opening a sentence. The index after it, or 0."""
        word = q[k].norm
        unit = self.words.counted_units.get(word)
        if unit is None:
            return 0
        nxt = q[k + 1].norm if k + 1 < len(q) else ""
        prev = q[k - 1].norm if k > 0 else ""
        if (
            nxt.isdigit()
            and 1 <= int(nxt) <= self.words.counted_most
            and prev not in self.not_a_count
        ):
            # "day 5": 5 days; "week 2": into its second week, half way (10.5 days)
            days = float(nxt) * unit if unit <= 1 else (float(nxt) - 0.5) * unit
            out.durations.append(Amount(days, q[k].index, q[k + 1].index))
            return k + 2
        if prev in ("", ".", "!", "?") and self._and_a_half(q, k + 1):
            out.durations.append(Amount(1.5 * unit, q[k].index, q[k + 3].index))
            return k + 4
        return 0

    def _lead(self, q: list[QToken], k: int) -> int:
        start = k
        while start - 1 >= 0 and q[start - 1].norm in self.words.duration_lead and k - start < 4:
            start -= 1
        return q[start].index

    def _since(self, q: list[QToken], k: int, out: Quantities, today: date) -> int:
        """Durations without a number: "since monday", "for weeks", "the last month"."""
        word = q[k].norm
        nxt = q[k + 1].norm if k + 1 < len(q) else ""
        prev = q[k - 1].norm if k > 0 else ""
        if word == "since":
            days: float | None = None
            span = 2
            if nxt == "yesterday":
                days = 1
            elif nxt == "last" and k + 2 < len(q) and q[k + 2].norm == "night":
                days, span = 0.5, 3  # "since last night": less than a day
            elif nxt == "last" and k + 2 < len(q) and q[k + 2].norm in self.units:
                days, span = self.units[q[k + 2].norm], 3
            elif nxt in self.weekdays:
                days = self._weekday_back(nxt, today)
            elif (dated := self._calendar(q, k + 1, today)) is not None:
                days, span = dated[0], 1 + dated[1]
            elif _NUM.match(nxt) and _EARLIEST_YEAR <= float(nxt) < today.year:
                # "since 2019": from the start of that year (at least that long)
                days = float((today - date(int(nxt), 1, 1)).days)
                out.durations.append(Amount(days, q[k].index, q[k + 1].index, needs_anchor=True))
                return k + 2
            elif (
                nxt in ("this", "today")
                or nxt in self.words.earlier_today
                or (nxt == "the" and k + 2 < len(q) and q[k + 2].norm == "morning")
            ):
                days = 0.3
            elif nxt == "the" and k + 2 < len(q) and q[k + 2].norm == "weekend":
                days, span = max(1, (today.weekday() + 1) % 7 or 7), 3
            if days is not None:
                out.durations.append(
                    Amount(days, q[k].index, q[min(k + span - 1, len(q) - 1)].index)
                )
                return k + span
            return k + 1
        if (
            (word in ("today", "tonight") and prev not in ("until", "till"))
            or (word in ("this", "since") and nxt in self.words.earlier_today)
            or (word == "last" and nxt == "night")
        ):
            span = 1 if word in ("today", "tonight") else 2
            out.durations.append(Amount(0.5, q[k].index, q[min(k + span - 1, len(q) - 1)].index))
            return k + span
        # "it began on Tuesday", "last Wednesday", "started in March": a point in time, a
        # duration only if something started then (like "3 days ago")
        when: tuple[float, int] | None = None  # days back, and the last token it took
        if word in ("on", "last") and nxt in self.weekdays:
            when = self._weekday_back(nxt, today), k + 1
        elif word == "in" and (dated := self._calendar(q, k + 1, today, days_of_year=False)):
            when = dated[0], min(k + dated[1], len(q) - 1)
        if when is not None:
            out.durations.append(Amount(when[0], q[k].index, q[when[1]].index, ago=True))
            return when[1] + 1
        if word in ("lunch", "lunchtime", "breakfast") and prev == "at":
            # "it started at lunch": earlier today, a point in time
            out.durations.append(Amount(0.3, q[k - 1].index, q[k].index, ago=True))
            return k + 1
        if word == "weekend" and prev == "last":
            # "started last weekend": a point in time, like "3 days ago"
            days = max(1, (today.weekday() + 1) % 7 or 7)
            out.durations.append(Amount(days, q[k - 1].index, q[k].index, ago=True))
            return k + 1
        if word in self.units and self.units[word] >= 1:
            plural = (word.endswith("s") and word != "ages") or word == "ages"
            if prev in ("for", "few") and plural:
                after = q[k + 1].norm if k + 1 < len(q) else ""
                ago = after in self.words.ago  # "a few years back": when, not how long
                out.durations.append(
                    Amount(
                        2 * self.units[word] if word != "ages" else self.units[word],
                        q[k - 1].index,
                        q[k + 1].index if ago else q[k].index,
                        ago=ago,
                    )
                )
            elif prev in self.words.whole_words and self.units[word] >= _WEEK and not plural:
                # "twitching all week", "the whole month": that long ("all day", "all night"
                # are when, not how long)
                out.durations.append(Amount(self.units[word], q[k - 1].index, q[k].index))
            elif (
                prev == "this"
                and word in ("week", "month")
                and not any(
                    q[j].norm in self.words.counted_times or q[j].norm.isdigit()
                    for j in range(max(0, k - 4), k - 1)
                )
            ):
                # "new this week", "since this month": at most since it began (not "twice this
                # week", "3 nights this week": how often)
                days = today.weekday() + 1 if word == "week" else today.day
                out.durations.append(Amount(max(1, days), q[k - 1].index, q[k].index))
            elif prev in ("last", "past") and not plural:
                # "the last week", "over the past month": how long; "last week" alone: when
                before = q[k - 2].norm if k >= 2 else ""
                point = prev == "last" and before not in ("the", "this", "over", "for", "in")
                out.durations.append(
                    Amount(self.units[word], q[k - 1].index, q[k].index, ago=point)
                )
        return k + 1

    def _calendar(
        self, q: list[QToken], k: int, today: date, *, days_of_year: bool = True
    ) -> tuple[float, int] | None:
        """Days since a month, a season or a day of the year at token ``k`` ("January",
        "last summer", "Christmas", "New Year"), and how many tokens it took; counted back
        from today, to the last time it came round."""
        words = [q[i].norm for i in range(k, min(k + 3, len(q)))]
        skip = 1 if words[:1] == ["last"] else 0
        words = words[skip:]
        if not words:
            return None
        if words[0] in self.months:
            month = self.months[words[0]]
            # this month: since its first day; another: since its middle, last time round
            day = 1 if month == today.month else 15
            return self._back_to(month, day, today), skip + 1
        if days_of_year:
            for size in (2, 1):
                phrase = " ".join(words[:size])
                if len(words) >= size and phrase in self.calendar_days:
                    month, day = self.calendar_days[phrase]
                    return self._back_to(month, day, today), skip + size
        return None

    def _weekday_back(self, name: str, today: date) -> float:
        """Days back to the last such weekday (a week for today's own name)."""
        return float((today.weekday() - self.weekdays.index(name)) % 7 or 7)

    @staticmethod
    def _back_to(month: int, day: int, today: date) -> float:
        """Days from the last (month, day) on or before today."""
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
        return float(max((today - date(year, month, day)).days, 1))

    def _temperature(self, q: list[QToken], k: int, j: int, value: float, out: Quantities) -> None:
        unit = q[j].norm if j < len(q) else ""
        celsius: float | None = None
        if unit in self.words.fahrenheit_units and 50 <= value <= 115:
            celsius = (value - 32) * 5 / 9
        elif unit in self.words.celsius_units or self._near(q, k, self.body_words, 4):
            celsius = value
        if celsius is None:
            return
        # a word for a body's temperature, not only its unit ("40°C by the fryers" is the air)
        said_of_body = self._near(q, k, self.body_words - self.words.celsius_units, 4)
        ambient = self._near(q, k, self.ambient_words, _AIR_REACH)
        first, last = q[k].index, q[min(j, len(q) - 1)].index
        if 34 <= celsius <= 44 and (said_of_body or not ambient):
            out.body_temp_c.append(Amount(celsius, first, last))
        elif (ambient or celsius > 44) and -30 <= celsius <= 60:
            out.ambient_temp_c.append(Amount(celsius, first, last))
