package RestRecorder;

# Perl side of t/fixtures/rest_recorder.js (the emulator, emulator/, in
# recording mode: emulator/lib/recorder.js says what it answers and logs)
# and of t/oracle/rest.js (the official SDK run against it), for the REST
# tests.
#
#   my $rec = RestRecorder->start($t, port => 1, keys => [$KEY],
#                                 entra_token => 'entra-...',
#                                 name => 'recorder');
#   (name: of its log and output files in the test directory, so that
#   two recorders can run in one test)
#   $rec->port, $rec->origin              where it listens
#   $rec->control({ mode => 'status', status => 500, ... })
#   $rec->count                           requests logged so far
#   $rec->entries($from)                  logged requests after the first
#                                         $from (all without $from)
#   $rec->by_request_id                   { x-ms-client-request-id => entry }
#   $rec->oracle(@cases)                  one SDK result per case
#
# The recorder is a daemon of the harness object, stopped with it.

use strict;
use warnings;

use FindBin;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->utf8->canonical;

sub node { $ENV{TEST_NODE} // 'node' }

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $text = <$fh>;
    return $text // '';
}

sub start {
    my ($class, $t, %o) = @_;
    my $port = $t->port($o{port} // 1);
    my $dir = $t->testdir;
    my $name = $o{name} // 'recorder';
    my $self = bless {
        t      => $t,
        port   => $port,
        origin => "http://127.0.0.1:$port",
        log    => "$dir/$name.jsonl",
        keys   => $o{keys},
        entra  => $o{entra_token} // 'entra-token-for-rest-tests',
    }, $class;

    open my $fh, '>', $self->{log} or die "create $self->{log}: $!\n";
    close $fh;

    # list pages of 2 when the caller gives no maxpagesize: paging is
    # exercised by every list
    my %env = (
        WPS_PORT        => $port,
        WPS_KEYS        => join(',', @{ $o{keys} }),
        WPS_ENDPOINT    => $self->{origin},
        WPS_RECORD      => $self->{log},
        WPS_ENTRA_TOKEN => $self->{entra},
        WPS_PAGE_SIZE   => 2,
        WPS_LIFETIME    => $o{lifetime} // 300,
    );
    my $script = "$FindBin::Bin/fixtures/rest_recorder.js";
    $t->run_daemon(sub {
        @ENV{keys %env} = values %env;
        open(STDOUT, '>>', "$dir/$name.out") or die "$name.out: $!";
        open(STDERR, '>&', \*STDOUT) or die "dup: $!";
        exec(node(), $script) or die "exec node: $!";
    });

    # ready: the control path answers
    my $ua = HTTP::Tiny->new(timeout => 2);
    my $deadline = time() + 20;
    while (1) {
        my $r = $ua->get("$self->{origin}/__control/ping");
        last if $r->{status} == 200 && $r->{content} eq 'ok';
        die "the REST recorder did not start:\n"
            . slurp("$dir/$name.out") . "\n"
            if time() > $deadline;
        sleep(0.05);
    }
    return $self;
}

sub port   { $_[0]{port} }
sub origin { $_[0]{origin} }
sub entra_token { $_[0]{entra} }

sub control {
    my ($self, $mode) = @_;
    my $r = HTTP::Tiny->new(timeout => 5)->post("$self->{origin}/__control",
        { content => $JSON->encode($mode),
          headers => { 'Content-Type' => 'application/json' } });
    die "recorder control failed: $r->{status} $r->{content}\n"
        unless $r->{status} == 200;
    return 1;
}

# requests whose headers reached the recorder, answered or not
sub arrived {
    my ($self) = @_;
    my $r = HTTP::Tiny->new(timeout => 5)->get("$self->{origin}/__control");
    die "recorder control failed: $r->{status}\n" unless $r->{status} == 200;
    return $JSON->decode($r->{content})->{arrived};
}

# New lines are parsed once and kept: JSON::PP is slow.
sub _read {
    my ($self) = @_;
    open my $fh, '<:raw', $self->{log} or die "read $self->{log}: $!\n";
    seek($fh, $self->{offset} // 0, 0);
    local $/;
    my $text = <$fh> // '';
    close $fh;
    my $end = rindex($text, "\n");
    return if $end < 0;
    $self->{offset} = ($self->{offset} // 0) + $end + 1;
    push @{ $self->{seen} }, map { $JSON->decode($_) } grep { /\S/ }
        split /\n/, substr($text, 0, $end);
}

sub entries {
    my ($self, $from) = @_;
    $self->_read();
    my @all = @{ $self->{seen} // [] };
    return $from ? @all[$from .. $#all] : @all;
}

sub count {
    my ($self) = @_;
    $self->_read();
    return scalar @{ $self->{seen} // [] };
}

sub by_request_id {
    my ($self) = @_;
    my %by;
    for my $e ($self->entries()) {
        my $id = $e->{headers}{'x-ms-client-request-id'};
        $by{$id} = $e if defined $id;
    }
    return \%by;
}

# Runs the SDK oracle over @cases in one node process; returns one result
# hash per case (or dies).  Bounded to 60 s.
sub oracle {
    my ($self, @cases) = @_;
    my $dir = $self->{t}->testdir;
    my $n = ++$self->{oracle_runs};
    my $in = "$dir/oracle-$n.json";
    open my $fh, '>:raw', $in or die "write $in: $!\n";
    print {$fh} $JSON->encode(\@cases);
    close $fh;

    local $ENV{RECORDER_ENTRA_TOKEN} = $self->{entra};
    my $script = "$FindBin::Bin/oracle/rest.js";
    my $pid = open(my $out, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open(STDERR, '>>', "$dir/oracle.err");
        exec(node(), $script, '--batch', $in) or POSIX::_exit(127);
    }

    my @lines;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(60);
        @lines = <$out>;
        alarm(0);
        1;
    };
    alarm(0);
    unless ($ok) {
        kill 'KILL', $pid;
    }
    close $out;
    die "the SDK oracle failed ($@, status $?):\n"
        . slurp("$dir/oracle.err")
        unless $ok && @lines == @cases;
    return map { $JSON->decode($_) } @lines;
}

1;
