"""The access rules, once: operators see everything, a secretary only her own meetings, and only
administrators and secretaries book."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from confbridge.auth import access


@dataclass
class Who:
    id: int
    role: str


@dataclass
class Meeting:
    organiser_id: int | None


ADMIN, TECH, SEC, OTHER_SEC = Who(1, "admin"), Who(2, "technician"), Who(3, "secretary"), Who(4, "secretary")
HERS = Meeting(organiser_id=3)


@pytest.mark.parametrize(("who", "see", "edit"), [
    (ADMIN, True, True), (TECH, True, False), (SEC, True, True), (OTHER_SEC, False, False),
])
def test_meeting_visibility_and_editing(who: Who, see: bool, edit: bool) -> None:
    assert access.may_see_meeting(who, HERS) is see
    assert access.may_see_conference(who, HERS) is see
    assert access.may_see_alarm(who, HERS) is see
    assert access.may_edit_meeting(who, HERS) is edit


def test_things_without_a_meeting_are_for_operators() -> None:
    assert access.may_see_alarm(TECH, None) and access.may_see_alarm(ADMIN, None)
    assert not access.may_see_alarm(SEC, None) and not access.may_see_conference(SEC, None)


def test_role_groups_and_list_filters() -> None:
    assert [access.may_book(w) for w in (ADMIN, TECH, SEC)] == [True, False, True]
    assert [access.may_operate(w) for w in (ADMIN, TECH, SEC)] == [True, True, False]
    assert access.followed_organiser(ADMIN) is None and access.followed_organiser(TECH) is None
    assert access.followed_organiser(SEC) == 3
    assert access.followed_organiser(Who(9, "guest")) == -1


@dataclass
class Template:
    owner_id: int


@pytest.mark.parametrize(("who", "use", "groups", "owner_filter"), [
    (ADMIN, True, True, None), (TECH, False, False, 2), (SEC, True, False, 3), (OTHER_SEC, False, False, 4),
])
def test_templates_are_their_owners_and_groups_the_administrators(
    who: Who, use: bool, groups: bool, owner_filter: int | None,
) -> None:
    assert access.may_use_template(who, Template(owner_id=3)) is use
    assert access.may_manage_endpoint_groups(who) is groups
    assert access.followed_template_owner(who) == owner_filter
