"""nbgrader configuration for the course (read by nbgrader and by the autograder)."""

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "deep-learning-tf"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# What a student sees in place of each solution: the signature and docstring stay above it.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE: write the function body, then delete the next line.\n"
    "raise NotImplementedError()"
}

# Training cells take a while on a laptop; nbgrader's default of 30 s a cell is too short.
c.Execute.timeout = 120
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]

# TensorFlow and Keras write log lines and warnings to stderr; nbgrader would score a
# grade cell that printed anything to stderr as zero. Drop those lines before scoring.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(WARNING|W0000|I0000|E0000|UserWarning|DeprecationWarning|absl|oneDNN|cuda|TensorFlow binary)"
