from lectures.models import Course


def test_vocabulary_terms_accept_lines_and_commas() -> None:
    course = Course(vocabulary="역전파, gradient descent\n 인공 신경망 ,,\n")
    assert course.vocabulary_terms() == ["역전파", "gradient descent", "인공 신경망"]


def test_an_empty_vocabulary_has_no_terms() -> None:
    assert Course(vocabulary="  \n ").vocabulary_terms() == []
