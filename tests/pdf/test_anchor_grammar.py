"""The anchor-tag grammar of reference §6.1, case by case: types, options, widths, font sizes,
radio counts, dropdown items, and every way a tag can be malformed."""

from __future__ import annotations

import pytest

from esign.domain.anchors import AnchorTag, MalformedTag, parse_tag
from esign.domain.enums import FieldOption, FieldType
from esign.domain.model import normalize_role

T = FieldType
Opt = FieldOption


def ok(inner: str, space_char: str = "|") -> AnchorTag:
    tag = parse_tag(inner, space_char)
    assert isinstance(tag, AnchorTag), tag
    return tag


def bad(inner: str) -> str:
    tag = parse_tag(inner)
    assert isinstance(tag, MalformedTag), tag
    assert tag.text == inner
    return tag.reason


# --- the reference's own examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("inner", "type_", "option", "role", "width"),
    [
        ("dt_req_buyer", T.DATE_TIME, Opt.REQUIRED, "buyer", 100),
        ("dt_req_buyer_150", T.DATE_TIME, Opt.REQUIRED, "buyer", 150),
        ("t_opt_seller_10", T.TIME, Opt.OPTIONAL, "seller", 100),  # below the minimum → default
        ("sig_req_seller_100", T.SIGNATURE, Opt.REQUIRED, "seller", 100),
        ("chk_req_client", T.CHECKBOX, Opt.REQUIRED, "client", 14),
        ("rdo_req_client_3", T.RADIO, Opt.REQUIRED, "client", 3 * 14 + 2 * 6),
        ("ddl_req_client_50_Birds_Mammals_Vertebrates", T.DROPDOWN, Opt.REQUIRED, "client", 50),
        ("txt_req_borrower_100_9", T.TEXT, Opt.REQUIRED, "borrower", 100),
    ],
)
def test_reference_examples(
    inner: str, type_: FieldType, option: FieldOption, role: str, width: float
) -> None:
    tag = ok(inner)
    assert (tag.type, tag.option, tag.role, tag.width) == (type_, option, role, width)


def test_reference_dropdown_and_text_details() -> None:
    assert ok("ddl_req_client_50_Birds_Mammals_Vertebrates").items == [
        "Birds",
        "Mammals",
        "Vertebrates",
    ]
    assert ok("txt_req_borrower_100_9").font_size == 9
    assert ok("rdo_req_client_3").radio_count == 3


# --- every type and option -------------------------------------------------------------


@pytest.mark.parametrize("code", ["dt", "d", "t", "sig", "ini", "txt", "chk"])
@pytest.mark.parametrize("option", ["req", "opt"])
def test_every_simple_type_with_req_and_opt(code: str, option: str) -> None:
    tag = ok(f"{code}_{option}_Buyer 1")
    assert tag.type == FieldType(code)
    assert tag.option == FieldOption(option)
    assert tag.role == "Buyer 1"
    assert tag.items == [] and tag.radio_count is None and tag.font_size is None


@pytest.mark.parametrize("code", ["rdo_{}_r_2", "ddl_{}_r_60_A"])
@pytest.mark.parametrize("option", ["req", "opt"])
def test_radio_and_dropdown_with_req_and_opt(code: str, option: str) -> None:
    assert ok(code.format(option)).option == FieldOption(option)


@pytest.mark.parametrize("code", ["dt", "d", "t"])
def test_aut_is_for_dates_and_times(code: str) -> None:
    assert ok(f"{code}_aut_Seller").option is Opt.AUTO


@pytest.mark.parametrize("inner", ["sig_aut_x", "ini_aut_x", "txt_aut_x", "chk_aut_x"])
def test_aut_elsewhere_is_malformed(inner: str) -> None:
    assert "aut is only for dt, d and t" in bad(inner)


def test_codes_ignore_case_and_spaces_but_role_keeps_its_letters() -> None:
    tag = ok(" SIG _ Req _  Seller   1 _ 180 ")
    assert (tag.type, tag.option) == (T.SIGNATURE, Opt.REQUIRED)
    assert (tag.role, tag.width) == ("Seller 1", 180)


def test_roles_match_ignoring_case_and_repeated_spaces() -> None:
    assert normalize_role(ok("sig_req_SELLER   1").role) == normalize_role("Seller 1")


# --- widths: minimum and default per type ----------------------------------------------


@pytest.mark.parametrize(
    ("code", "minimum", "default"),
    [
        ("sig", 80, 175),
        ("ini", 35, 45),
        ("dt", 50, 100),
        ("d", 50, 100),
        ("t", 50, 100),
        ("txt", 20, 175),
        ("chk", 10, 14),
    ],
)
def test_width_minimum_and_default(code: str, minimum: float, default: float) -> None:
    assert ok(f"{code}_req_r").width == default  # missing
    assert ok(f"{code}_req_r_").width == default  # empty
    assert ok(f"{code}_req_r_{minimum}").width == minimum  # the minimum itself is kept
    assert ok(f"{code}_req_r_{minimum - 1}").width == default  # below it → default
    assert ok(f"{code}_req_r_{minimum + 0.5}").width == minimum + 0.5
    assert ok(f"{code}_req_r_400").width == 400


def test_dropdown_width_minimum_and_default() -> None:
    assert ok("ddl_req_r__A").width == 120
    assert ok("ddl_req_r_49_A").width == 120
    assert ok("ddl_req_r_50_A").width == 50


def test_checkbox_is_square() -> None:
    tag = ok("chk_opt_r_20")
    assert tag.width == tag.height == 20


# --- font sizes and heights ------------------------------------------------------------


@pytest.mark.parametrize("code", ["sig", "ini", "dt", "d", "t", "txt"])
@pytest.mark.parametrize(("given", "expected"), [("2", 6), ("6", 6), ("12", 12), ("40", 28)])
def test_font_size_clamped_to_6_28(code: str, given: str, expected: float) -> None:
    assert ok(f"{code}_req_r_100_{given}").font_size == expected


def test_font_size_with_default_width() -> None:
    tag = ok("txt_req_r__11")
    assert (tag.width, tag.font_size) == (175, 11)


@pytest.mark.parametrize(
    ("inner", "height"),
    [
        ("sig_req_r", 36),
        ("ini_req_r", 30),
        ("dt_req_r", 16),
        ("txt_req_r", 16),
        ("rdo_req_r_4", 14),
        ("ddl_req_r_60_A", 18),
        ("txt_req_r_100_10", 14),  # 1.4 × font size
        ("txt_req_r_100_6", 8.5),  # 8.4 rounded up to half a point
        ("d_req_r_100_20", 28),
        ("sig_req_r_100_10", 36),  # never below the type's default
        ("sig_req_r_100_28", 39.5),
        ("ini_req_r_100_28", 39.5),
    ],
)
def test_heights(inner: str, height: float) -> None:
    assert ok(inner).height == height


# --- radio counts ----------------------------------------------------------------------


@pytest.mark.parametrize("count", range(2, 11))
def test_radio_counts_2_to_10(count: int) -> None:
    tag = ok(f"rdo_req_r_{count}")
    assert tag.radio_count == count
    assert tag.width == count * 14 + (count - 1) * 6


@pytest.mark.parametrize("count", ["0", "1", "11", "99", "2.5", "x", "-3"])
def test_radio_count_out_of_range(count: str) -> None:
    assert "radio buttons" in bad(f"rdo_req_r_{count}")


def test_radio_without_count() -> None:
    assert "number of buttons" in bad("rdo_req_r")
    assert "number of buttons" in bad("rdo_req_r_")


# --- dropdown items and the space substitute -------------------------------------------


def test_dropdown_items_with_space_substitute() -> None:
    assert ok("ddl_req_client_50_item|1_item|2").items == ["item 1", "item 2"]


def test_dropdown_custom_space_substitute_and_none() -> None:
    assert ok("ddl_req_c_50_New~York_Los~Angeles", "~").items == ["New York", "Los Angeles"]
    assert ok("ddl_req_c_50_a|b", "").items == ["a|b"]


def test_dropdown_items_keep_inner_spaces_and_drop_outer_ones() -> None:
    assert ok("ddl_req_c_50_ North  Pole |_South").items == ["North Pole", "South"]


def test_dropdown_single_item() -> None:
    assert ok("ddl_opt_c_80_Only").items == ["Only"]


# --- malformed tags --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("sig", "option"),
        ("sig_", "option"),
        ("sig_req", "role"),
        ("sig_req_", "role"),
        ("sig_req_  ", "role"),
        ("foo_req_x", "unknown tag type 'foo'"),
        ("signature_req_x", "unknown tag type"),
        ("sig_must_x", "unknown option 'must'"),
        ("sig_req_x_wide", "width 'wide' is not a number"),
        ("sig_req_x_-5", "width '-5' is not a number"),
        ("sig_req_x_100_big", "font size 'big' is not a number"),
        ("sig_req_x_100_10_extra", "too many parts"),
        ("chk_req_x_14_2", "too many parts"),
        ("rdo_req_x_3_4", "too many parts"),
        ("ddl_req_x", "width and at least one item"),
        ("ddl_req_x_50", "width and at least one item"),
        ("ddl_req_x_fifty_A", "width 'fifty' is not a number"),
        ("ddl_req_x_50_A__B", "dropdown item is empty"),
        ("ddl_req_x_50_|", "dropdown item is empty"),
        ("sig req Seller", "unknown tag type"),
        ("https://example.com", "unknown tag type"),
    ],
)
def test_malformed(inner: str, reason: str) -> None:
    assert reason in bad(inner)


def test_parse_never_raises_on_odd_text() -> None:
    for inner in ["_", "__", "___", "\x00", "sig_req_\u00e9l\u00e8ve", "ddl_req_r_1e3_A", "🙂"]:
        assert isinstance(parse_tag(inner), AnchorTag | MalformedTag)
