# grey-top's live view on a real terminal.
#
#   make top-terminal   tests/top/top_tests.sh: 30 hooked processes on the simulated GPU, grey-top
#                       in a detached tmux at 80x24 and at 200x50, driven with send-keys and read
#                       back with capture-pane (fits without wrapping, sorting, scrolling, resize,
#                       q quits, an empty view before any ledger exists), and the line of
#                       duplicates across jobs with two grey-run --dedup jobs (prog_dedup live)
# It runs in `make check`.

NCURSES_LIBS := $(shell pkg-config --libs ncurses 2>/dev/null || echo -lncurses)
$(BUILD)/bin/grey-top: TOOL_LDLIBS += $(NCURSES_LIBS)

TOP_LOAD := $(BUILD)/tests/top/top_load
$(TOP_LOAD): $(BUILD)/obj/tests/top/top_load.o $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< $(LDFLAGS) -L$(BUILD)/sim -lcuda -lpthread

.PHONY: top-terminal
top-terminal: all $(TOP_LOAD) $(DEDUP_PROG)
	@bash tests/top/top_tests.sh

EXTRA_CHECKS += top-terminal
