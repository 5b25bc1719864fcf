// A Go LOOP plugin for Loop's interop tests, built on hashicorp/go-plugin (Debian's 1.0.1).
// It serves the sample Echo service and prefixes replies with "go:"; Relay and Offer use go-plugin's connection
// broker (Relay dials a service the host serves, Offer serves one for the host to dial).
package main

import (
	"context"
	"sync/atomic"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	echo "loopinterop/echo"
)

type echoServer struct {
	echo.UnimplementedEchoServer
	broker *plugin.GRPCBroker
	calls  int64
}

func (s *echoServer) Say(ctx context.Context, req *echo.EchoRequest) (*echo.EchoReply, error) {
	n := atomic.AddInt64(&s.calls, 1)
	return &echo.EchoReply{Text: "go:" + req.Text, Calls: n}, nil
}

func (s *echoServer) Relay(ctx context.Context, req *echo.RelayRequest) (*echo.EchoReply, error) {
	conn, err := s.broker.Dial(req.BrokerId)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return echo.NewEchoClient(conn).Say(ctx, &echo.EchoRequest{Text: req.Text})
}

func (s *echoServer) Offer(ctx context.Context, req *echo.OfferRequest) (*echo.OfferReply, error) {
	id := s.broker.NextId()
	go s.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		server := grpc.NewServer(opts...)
		echo.RegisterEchoServer(server, &prefixServer{prefix: req.Prefix})
		return server
	})
	return &echo.OfferReply{BrokerId: id}, nil
}

// prefixServer is the Echo served over a brokered connection.
type prefixServer struct {
	echo.UnimplementedEchoServer
	prefix string
}

func (p *prefixServer) Say(ctx context.Context, req *echo.EchoRequest) (*echo.EchoReply, error) {
	return &echo.EchoReply{Text: p.prefix + ":" + req.Text}, nil
}

type echoPlugin struct{ plugin.Plugin }

func (p *echoPlugin) GRPCServer(broker *plugin.GRPCBroker, server *grpc.Server) error {
	echo.RegisterEchoServer(server, &echoServer{broker: broker})
	return nil
}

func (p *echoPlugin) GRPCClient(ctx context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return echo.NewEchoClient(conn), nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "LOOP_SAMPLE_PLUGIN",
			MagicCookieValue: "a3d5e9c1-loop-sample",
		},
		Plugins:    map[string]plugin.Plugin{"echo": &echoPlugin{}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
