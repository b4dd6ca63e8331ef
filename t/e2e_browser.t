#!/usr/bin/perl

# The chat demo end to end in a browser: headless Chromium (driven by
# playwright-core, t/oracle/e2e_browser.js) opens the chat page served by
# nginx with examples/chat.conf twice, as alice and as bob, each in a
# browser context of its own.  Both pages get a token from nginx's
# /negotiate, connect to the local Web PubSub service, hear the app's
# announcements (published through nginx's REST location), and see each
# other's messages; no page may log a console error or throw.  A
# screenshot of each page is saved under build/test-output/ (Entra mode:
# build/test-output/entra/).
#
# t/e2e_browser_entra.t runs this file with $AUTH = 'entra': the demo of
# "make run AUTH=entra" (examples/chat-entra.conf, the local Entra ID
# stand-in, the emulator with local auth disabled), the same pages and
# checks.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use File::Path qw(make_path);
use JSON::PP;
use WebPubSub::Nginx;
use ChatDemo;

our $AUTH //= 'key';

my $CHROMIUM = $ENV{TEST_CHROMIUM} // '/usr/bin/chromium';

if (my $why = ChatDemo::missing()) {
    die "the chat demo cannot run: $why\n";
}
die "no Chromium at $CHROMIUM (tools/deps.sh test installs it)\n"
    unless -x $CHROMIUM;

my $shots = ChatDemo::top() . '/build/test-output'
    . ($AUTH eq 'entra' ? '/entra' : '');
make_path($shots);
die "cannot create $shots\n" unless -d $shots;
unlink map { "$shots/e2e_browser-$_.png" } qw(alice bob);

my $demo = ChatDemo->start(auth => $AUTH);
my $t = $demo->t;

$t->plan(17);

my $r = $demo->oracle('e2e_browser.js', timeout => 40,
    env => { E2E_SHOTS => $shots, E2E_CHROMIUM => $CHROMIUM });
my ($alice, $bob) = map { $r->{pages}{$_} // {} } qw(alice bob);

ok(!defined $r->{error}, 'the browser went through every step')
    or diag("failed at: $r->{error}\n"
        . join('', map { "  $_\n" } @{ $r->{timings} // [] })
        . "pages: " . JSON::PP->new->canonical->pretty->encode($r->{pages})
        . $r->{_stderr} . $demo->logs_for_diag());
note('browser: ' . ($r->{browserVersion} // '?'));

# what each page showed after the exchange (bob's before he left)
sub shown {
    my ($page) = @_;
    return [ map { ($_->{cls} eq 'system' ? '* ' : '') . $_->{text} }
        @{ $page->{messages} // [] } ];
}

is($bob->{status}, 'connected', 'bob\'s page: connected');
is_deeply(shown($bob), [
    '* bob joined',
    'alice: hello from alice',
    'bob: hi alice, bob here',
], 'bob\'s page: his announcement, alice\'s message, his answer');

is($alice->{status}, 'connected', 'alice\'s page: still connected');
is_deeply(shown($alice), [
    '* alice joined',
    '* bob joined',
    'alice: hello from alice',
    'bob: hi alice, bob here',
    '* bob left',
], 'alice\'s page: both announcements, both messages, and bob leaving');

my ($mine) = grep { $_->{text} eq 'alice: hello from alice' }
    @{ $alice->{messages} // [] };
is($mine && $mine->{cls}, 'me', 'alice\'s own message is shown as hers');
is($r->{aliceTextAfterSend}, '', 'the text box is emptied after sending');

for my $name (qw(alice bob)) {
    my $page = $r->{pages}{$name} // {};
    my @errors = @{ $page->{consoleErrors} // [] };
    is_deeply(\@errors, [], "$name\'s page: no console error")
        or diag(explain(\@errors));
    is_deeply($page->{pageErrors}, [], "$name\'s page: no page error")
        or diag(explain($page->{pageErrors}));
}

for my $name (qw(alice bob)) {
    my $file = $r->{screenshots}{$name} // '';
    my $png = -f $file ? ChatDemo::slurp($file) : '';
    ok(substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n" && length($png) > 1000,
        "$name\'s page saved as a PNG");
    diag("screenshot: $file") if -f $file;
}

# The app saw both users connect through nginx's gateway, and bob leave.
my %seen;
eval {
    $demo->wait_until(sub {
        %seen = map { ("$_->{event} " . ($_->{userId} // '-')) => 1 }
            $demo->app_events();
        $seen{'disconnected bob'};
    }, ChatDemo::scaled(5));
};
ok($seen{"connect $_"} && $seen{"connected $_"}, "the app saw $_ connect")
    for qw(alice bob);
ok($seen{'disconnected bob'}, 'the app saw bob leave')
    or diag(ChatDemo::slurp($demo->app_log_path));

# nginx answered every request of the pages
my @failed = grep { /" [45]\d\d / } split /\n/, $t->read_file('access.log');
ok(!@failed, 'no request of the pages failed at nginx')
    or diag(join "\n", @failed);

$t->done();
