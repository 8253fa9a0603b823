# The hook's table of executable graphs with memory nodes (shim/graph_table.c), whose lookups run
# without a lock while graphs are instantiated and destroyed.
#
#   make graph-tsan   tests/stress/tsan_graph_table.c built with -fsanitize=thread: readers
#                     looking records up and reading them while writers insert, replace and
#                     remove them; every record freed exactly once, never under a reader
# It runs in `make check`. The hook's own graph tests (tests/integration/prog_graph_churn.c) run
# in `make integration` and, under ASan, in `make integration-asan`.

TSAN_GRAPH := $(BUILD)/tsan/tsan_graph_table
.PHONY: graph-tsan

# The test, the table and what it logs with, all instrumented (the Makefile's tsan variant).
$(TSAN_GRAPH): $(BUILD)/tsan/obj/tests/stress/tsan_graph_table.o $(BUILD)/tsan/obj/shim/graph_table.o \
               $(BUILD)/tsan/obj/core/log.o
	@mkdir -p $(@D)
	$(call q,CLANG)clang -fsanitize=thread -o $@ $^ -lpthread

graph-tsan: $(TSAN_GRAPH)
	@echo "== the graph table under ThreadSanitizer"
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(TSAN_GRAPH)

EXTRA_CHECKS += graph-tsan
