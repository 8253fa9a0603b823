/* Which ledger grey-top and grey-exporter read (tools/ledger_source.h): the node service's while
 * its socket is there, the file otherwise or when the service does not answer, --ledger always. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/ledger_source.h"

static struct grey_plan admin_plan(const char *socket)
{
    struct grey_plan p;
    memset(&p, 0, sizeof p);
    p.admin = true;
    snprintf(p.ledger, sizeof p.ledger, "/dev/shm/grey-test-node.ledger");
    if (socket)
        snprintf(p.node_service, sizeof p.node_service, "%s", socket);
    return p;
}

Test(ledger_source, the_service_is_named_as_the_hook_names_it)
{
    cr_assert_str_eq(ledger_source_socket("grey-noded:/run/grey/noded.sock"), "/run/grey/noded.sock");
    cr_assert_null(ledger_source_socket("/dev/shm/grey-node.ledger"));
    cr_assert_null(ledger_source_socket("./grey-noded:x"), "only a prefix names the service");
}

Test(ledger_source, the_service_while_its_socket_is_there_else_the_file)
{
    char dir[] = "/tmp/grey-test-source.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sock[64];
    snprintf(sock, sizeof sock, "%s/noded.sock", dir);
    struct grey_plan p = admin_plan(sock);
    const struct grey_plan *list[1] = {&p};
    static struct ledger_choice c;
    ledger_choice_init(&c, NULL, list, 1);
    cr_assert_str_eq(ledger_choice_now(&c), "/dev/shm/grey-test-node.ledger", "no socket: the file");
    cr_assert_not(ledger_source_present(c.service));

    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
    cr_assert_eq(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    char want[160];
    snprintf(want, sizeof want, "grey-noded:%s", sock);
    cr_assert_str_eq(ledger_choice_now(&c), want, "a socket at node_service: the service's ledger");
    cr_assert(ledger_source_present(want));

    ledger_choice_init(&c, "/tmp/other.ledger", list, 1);
    cr_assert_str_eq(ledger_choice_now(&c), "/tmp/other.ledger", "--ledger wins");

    struct grey_plan user = admin_plan(sock);
    user.admin = false;
    const struct grey_plan *users[1] = {&user};
    ledger_choice_init(&c, NULL, users, 1);
    cr_assert_str_eq(c.service, "", "a user's plan never names the service");
    close(s);
    unlink(sock);
    rmdir(dir);
}

Test(ledger_source, a_service_that_does_not_answer_falls_back_to_the_file)
{
    char dir[] = "/tmp/grey-test-source.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sock[64];
    snprintf(sock, sizeof sock, "%s/noded.sock", dir);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
    cr_assert_eq(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    close(s); /* a socket left behind by a service that died: nobody listens */
    struct grey_plan p = admin_plan(sock);
    snprintf(p.ledger, sizeof p.ledger, "%s/file.ledger", dir);
    const struct grey_plan *list[1] = {&p};
    static struct ledger_choice c;
    ledger_choice_init(&c, NULL, list, 1);
    struct grey_ledger lg;
    char err[512];
    cr_assert_eq(grey_ledger_open(p.ledger, true, &lg, err, sizeof err), 0, "%s", err);
    grey_ledger_close(&lg);
    static struct grey_view v;
    const char *shown;
    cr_assert_eq(ledger_choice_load(&c, false, &v, &shown, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(shown, p.ledger, "the file, as the hook would use it");
    unlink(p.ledger);
    cr_assert_eq(ledger_choice_load(&c, false, &v, &shown, err, sizeof err), -1);
    cr_assert(strstr(err, "not running"), "neither: the service's reason is said (%s)", err);
    unlink(sock);
    rmdir(dir);
}
