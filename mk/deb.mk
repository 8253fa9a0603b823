# The Debian packages (debian/): grey (hook, tools, man pages, completions, systemd unit, example
# plan) and grey-test (the simulated drivers and a demo job, in /usr/lib/grey/sim).
#
#   make deb         dpkg-buildpackage -us -uc -b here; the .debs land in ..
#   make deb-tests   tests/deb/run.sh: builds them in a scratch copy, checks what they hold,
#                    installs them with dpkg -x in a scratch root, runs the installed
#                    grey-run --version and a capped demo job on the installed simulator, and
#                    fails on any lintian error (about 2 minutes on 2 cores)
.PHONY: deb deb-tests
deb:
	dpkg-buildpackage -us -uc -b

deb-tests: deps
	@bash tests/deb/run.sh

EXTRA_CHECKS += deb-tests
