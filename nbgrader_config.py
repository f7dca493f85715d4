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

# The autograder's limits for one submission (the `autograder grade` options override these; their
# defaults live in autograder/sandbox.py's Limits).
c.Autograder.cell_timeout = 120  # seconds a cell may run before it is interrupted
c.Autograder.notebook_timeout = 600  # seconds for the whole notebook, checks included
c.Autograder.memory_gib = 4  # the sandbox is killed past this
c.Autograder.processes = 64  # processes the submission may start
c.Autograder.output_bytes = 1_000_000  # output kept per notebook; the rest is dropped
c.Autograder.disk_gib = 1  # files in scratch, all together (and the largest single file)
c.Autograder.checks_timeout = 900  # seconds for the hidden checks of one submission
c.Autograder.threads = 0  # TensorFlow threads per kernel; 0: the machine's cores shared among --jobs
c.Autograder.cold_kernels = False  # True: every kernel starts under bubblewrap, not forked from a warm zygote
c.Autograder.gpu_skip_withholds = False  # True: a GPU check skipped for want of a GPU earns nothing
c.Autograder.seed = 0  # grading seed for the hidden inputs: keep it fixed for a term
