package WebPubSub::EventApp;

# The application behind the gateway in the event tests: the official
# @azure/web-pubsub-express handler (t/fixtures/event_app.js), which writes
# one JSON line per request it sees, so that a test can tell what reached
# the app and what did not.
#
#   my $app = WebPubSub::EventApp->start($t, $port, 'chat');
#   ...
#   my @seen = $app->log();                   # every request, oldest first
#   my @got = $app->arrivals_of('conn-1');    # those of one connection id

use strict;
use warnings;

use FindBin;
use JSON::PP;

my $json = JSON::PP->new->utf8->canonical;

# start($t, $port, $hub, quiet => 1): the app as a daemon of $t; with quiet,
# its own output goes to app.out in the test directory, not into TAP

sub start {
    my ($class, $t, $port, $hub, %opts) = @_;

    my $self = bless { log => $t->testdir . '/app.log' }, $class;
    my $out = $t->testdir . '/app.out';

    $t->run_daemon(sub {
        if ($opts{quiet}) {
            open(STDOUT, '>>', $out) or die "app.out: $!";
            open(STDERR, '>&', \*STDOUT) or die "dup: $!";
        }

        exec($ENV{TEST_NODE} // 'node', "$FindBin::Bin/fixtures/event_app.js",
            $port, $hub, $self->{log}) or die "exec node: $!";
    });

    $t->wait_for_port($port, 20);

    return $self;
}

sub file { $_[0]{log} }

sub log {
    my ($self) = @_;

    open my $fh, '<', $self->{log} or return ();
    my @lines = map { $json->decode($_) } grep { /\S/ } <$fh>;

    return grep { !$_->{listening} } @lines;
}

sub arrivals_of {
    my ($self, $conn) = @_;

    return grep { $_->{arrived}
                  && ($_->{headers}{'ce-connectionid'} // '') eq $conn }
        $self->log();
}

1;
