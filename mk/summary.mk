# grey-run --summary-json FILE: the end-of-job summary as JSON (tools/run_summary.h).
#
#   make summary-json-tests   tests/integration/summary_json_tests.sh: parsed with jq, the exit
#                             statuses (0, 3, SIGTERM, not found), a capped job's cap, peak and
#                             denials, time throttled under --max-share 25%, an unwritable FILE
#                             (about 3 s)
.PHONY: summary-json-tests
summary-json-tests: all $(DEMO_BIN) $(FAIR_LOAD)
	@bash tests/integration/summary_json_tests.sh

EXTRA_CHECKS += summary-json-tests
