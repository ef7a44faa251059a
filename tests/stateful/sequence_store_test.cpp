// The sequence store of stateful models (serving/sequence_manager.h): OVMS's sequence rules,
// per-sequence serialisation, the idle cleaner; and the state convention (serving/stateful.h).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <onnx/onnx_pb.h>

#include "engine/ir/ir_model.h"
#include "serving/sequence_manager.h"
#include "serving/stateful.h"

namespace ovms::serving {
namespace {

using Lease = SequenceStore::Lease;

engine::TensorView scalarState(float v) {
  auto owner = std::make_shared<float>(v);
  return engine::TensorView{engine::Precision::FP32, {1}, owner.get(), sizeof(float), owner};
}

TEST(SequenceStore, StartUseEndFollowOvmsRules) {
  SequenceStore store(10, "m", 1);
  {
    Lease l;
    ASSERT_TRUE(store.acquire(5, kSequenceStart, &l).ok());
    EXPECT_EQ(l.id(), 5u);
    EXPECT_TRUE(l.state().empty());  // initial state
    l.keep({scalarState(3)});
  }
  EXPECT_EQ(store.acquire(5, kSequenceStart, nullptr).code(), StatusCode::SEQUENCE_ALREADY_EXISTS);
  EXPECT_EQ(store.acquire(6, kNoControlInput, nullptr).code(), StatusCode::SEQUENCE_MISSING);
  EXPECT_EQ(store.acquire(6, kSequenceEnd, nullptr).code(), StatusCode::SEQUENCE_MISSING);
  {
    Lease l;
    ASSERT_TRUE(store.acquire(5, kNoControlInput, &l).ok());
    ASSERT_EQ(l.state().size(), 1u);
    EXPECT_EQ(*static_cast<const float*>(l.state()[0].data), 3.0f);
  }
  {
    Lease l;
    ASSERT_TRUE(store.acquire(5, kSequenceEnd, &l).ok());
    EXPECT_EQ(store.size(), 1u);  // removed when the END request is done
  }
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.acquire(5, kNoControlInput, nullptr).code(), StatusCode::SEQUENCE_MISSING);
}

TEST(SequenceStore, StartWhileEndRunsIsTerminatedAndOthersSeeMissing) {
  SequenceStore store(10, "m", 1);
  { Lease l; ASSERT_TRUE(store.acquire(7, kSequenceStart, &l).ok()); }
  Lease ending;
  ASSERT_TRUE(store.acquire(7, kSequenceEnd, &ending).ok());
  EXPECT_EQ(store.acquire(7, kSequenceStart, nullptr).code(), StatusCode::SEQUENCE_TERMINATED);
  EXPECT_EQ(store.acquire(7, kNoControlInput, nullptr).code(), StatusCode::SEQUENCE_MISSING);
  EXPECT_EQ(store.acquire(7, kSequenceEnd, nullptr).code(), StatusCode::SEQUENCE_MISSING);
  ending = Lease();
  Lease again;
  EXPECT_TRUE(store.acquire(7, kSequenceStart, &again).ok());
}

TEST(SequenceStore, ServerAssignsUniqueIdsAndHonoursMaxSequenceNumber) {
  SequenceStore store(3, "m", 1);
  { Lease l; ASSERT_TRUE(store.acquire(1, kSequenceStart, &l).ok()); }
  uint64_t a = 0, b = 0;
  { Lease l; ASSERT_TRUE(store.acquire(0, kSequenceStart, &l).ok()); a = l.id(); }
  { Lease l; ASSERT_TRUE(store.acquire(0, kSequenceStart, &l).ok()); b = l.id(); }
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, 1u);  // 1 is taken by the client's sequence
  EXPECT_NE(b, a);
  EXPECT_EQ(store.acquire(9, kSequenceStart, nullptr).code(), StatusCode::MAX_SEQUENCE_NUMBER_REACHED);
  EXPECT_EQ(store.acquire(0, kSequenceStart, nullptr).code(), StatusCode::MAX_SEQUENCE_NUMBER_REACHED);
  { Lease l; ASSERT_TRUE(store.acquire(a, kSequenceEnd, &l).ok()); }
  Lease l;
  EXPECT_TRUE(store.acquire(9, kSequenceStart, &l).ok());
}

TEST(SequenceStore, RequestsOfOneSequenceRunOneAtATime) {
  SequenceStore store(100, "m", 1);
  for (uint64_t id = 1; id <= 4; ++id) {
    Lease l;
    ASSERT_TRUE(store.acquire(id, kSequenceStart, &l).ok());
    l.keep({scalarState(0)});
  }
  std::atomic<int> inside[5] = {};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const uint64_t id = 1 + t % 4;
      for (int i = 0; i < 200; ++i) {
        Lease l;
        ASSERT_TRUE(store.acquire(id, kNoControlInput, &l).ok());
        if (inside[id].fetch_add(1) != 0) overlap = true;
        float v = *static_cast<const float*>(l.state()[0].data);  // read-modify-write of the state
        std::this_thread::yield();
        l.keep({scalarState(v + 1)});
        inside[id].fetch_sub(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(overlap.load());
  for (uint64_t id = 1; id <= 4; ++id) {
    Lease l;
    ASSERT_TRUE(store.acquire(id, kNoControlInput, &l).ok());
    EXPECT_EQ(*static_cast<const float*>(l.state()[0].data), 400.0f) << id;  // two threads x 200 each
  }
}

TEST(SequenceStore, CleanerRemovesSequencesIdleForAWholeSweep) {
  SequenceStore store(10, "m", 1);
  for (uint64_t id : {1, 2, 3}) {
    Lease l;
    ASSERT_TRUE(store.acquire(id, kSequenceStart, &l).ok());
  }
  EXPECT_EQ(store.removeIdle(), 0u);  // first sweep only marks them
  { Lease l; ASSERT_TRUE(store.acquire(2, kNoControlInput, &l).ok()); }  // 2 is used in between
  Lease busy;
  ASSERT_TRUE(store.acquire(3, kNoControlInput, &busy).ok());  // 3 is being processed during the sweep
  EXPECT_EQ(store.removeIdle(), 0u + 1u);  // removes 1 only
  EXPECT_EQ(store.acquire(1, kNoControlInput, nullptr).code(), StatusCode::SEQUENCE_MISSING);
  busy = Lease();
  { Lease l; EXPECT_TRUE(store.acquire(2, kNoControlInput, &l).ok()); }
  { Lease l; EXPECT_TRUE(store.acquire(3, kNoControlInput, &l).ok()); }
}

TEST(SequenceStore, ARequestWaitingForASequenceRemovedMeanwhileGetsMissing) {
  SequenceStore store(10, "m", 1);
  { Lease l; ASSERT_TRUE(store.acquire(4, kSequenceStart, &l).ok()); }
  Lease running;
  ASSERT_TRUE(store.acquire(4, kNoControlInput, &running).ok());
  std::atomic<int> result{-1};
  std::thread ender([&] {
    Lease l;
    Status st = store.acquire(4, kSequenceEnd, &l);  // waits for `running`
    result = static_cast<int>(st.code());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  running = Lease();
  ender.join();
  EXPECT_EQ(result.load(), static_cast<int>(StatusCode::OK));
  EXPECT_EQ(store.size(), 0u);
}

TEST(SequenceStore, ARequestRacingTheEndRequestRunsBeforeItOrFindsItRemoved) {
  SequenceStore store(10, "m", 1);
  { Lease l; ASSERT_TRUE(store.acquire(8, kSequenceStart, &l).ok()); }
  Lease running;
  ASSERT_TRUE(store.acquire(8, kNoControlInput, &running).ok());
  // Both wait for `running`: a request of the sequence and its END request.
  std::atomic<int> waiter{-1};
  std::thread t([&] { waiter = static_cast<int>(store.acquire(8, kNoControlInput, nullptr).code()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::atomic<int> ender{-1};
  std::thread e([&] { ender = static_cast<int>(store.acquire(8, kSequenceEnd, nullptr).code()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  running = Lease();
  t.join();
  e.join();
  EXPECT_EQ(ender.load(), static_cast<int>(StatusCode::OK));
  // Whichever got the sequence first, the waiter either ran before the end or found it removed.
  EXPECT_TRUE(waiter.load() == static_cast<int>(StatusCode::OK) ||
              waiter.load() == static_cast<int>(StatusCode::SEQUENCE_MISSING));
  EXPECT_EQ(store.size(), 0u);
}

TEST(SequenceCleaner, ForgetsStoresOfRetiredVersions) {
  auto store = std::make_shared<SequenceStore>(10, "m", 1);
  SequenceCleaner::instance().add(store);
  { Lease l; ASSERT_TRUE(store->acquire(1, kSequenceStart, &l).ok()); }
  SequenceCleaner::instance().sweep();
  SequenceCleaner::instance().sweep();
  EXPECT_EQ(store->size(), 0u);
  store.reset();
  SequenceCleaner::instance().sweep();  // no dangling store
}

// ---- the state convention ----

std::string accumulatorModel(bool with_initial) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto tensor = [](onnx::ValueInfoProto* vi, const char* name) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(2);
  };
  tensor(g->add_input(), "x");
  tensor(g->add_input(), "acc_state");
  tensor(g->add_input(), "other_state");  // no output pair: an ordinary input
  tensor(g->add_output(), "sum");
  tensor(g->add_output(), "acc_state_out");
  if (with_initial) {
    auto* init = g->add_initializer();
    init->set_name("acc_state");
    init->set_data_type(onnx::TensorProto::FLOAT);
    init->add_dims(2);
    init->add_float_data(1.5f);
    init->add_float_data(-2.0f);
  }
  return m.SerializeAsString();
}

TEST(StateConvention, PairsAreFoundAndInitialValuesTaken) {
  std::string bytes = accumulatorModel(true);
  std::vector<StateVariable> vars;
  ASSERT_TRUE(extractStateVariables(&bytes, &vars).ok());
  ASSERT_EQ(vars.size(), 1u);
  EXPECT_EQ(vars[0].input, "acc_state");
  EXPECT_EQ(vars[0].output, "acc_state_out");
  ASSERT_EQ(vars[0].initial.bytes.size(), 8u);
  const float* v = reinterpret_cast<const float*>(vars[0].initial.bytes.data());
  EXPECT_EQ(v[0], 1.5f);
  EXPECT_EQ(v[1], -2.0f);
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  EXPECT_EQ(m.graph().initializer_size(), 0);  // the state input must now be fed

  bytes = accumulatorModel(false);
  ASSERT_TRUE(extractStateVariables(&bytes, &vars).ok());
  ASSERT_EQ(vars.size(), 1u);
  EXPECT_EQ(vars[0].initial.bytes, std::vector<uint8_t>(8, 0));  // zeros
}

// IR ReadValue/Assign of variable `acc` become input `acc_state` (its constant initial value as the
// input's initializer) and output `acc_state_out`, which the state convention pairs.
TEST(StateConvention, IrReadValueAssignBecomeAStatePair) {
  const std::string xml = R"(<?xml version="1.0" ?>
<net name="acc" version="11"><layers>
<layer id="0" name="x" type="Parameter" version="opset1"><data element_type="f32" shape="2"/>
  <output><port id="0" precision="FP32"><dim>2</dim></port></output></layer>
<layer id="1" name="init" type="Const" version="opset1"><data element_type="f32" offset="0" shape="2" size="8"/>
  <output><port id="0" precision="FP32"><dim>2</dim></port></output></layer>
<layer id="2" name="read" type="ReadValue" version="opset3"><data variable_id="acc"/>
  <input><port id="0"><dim>2</dim></port></input><output><port id="1" precision="FP32"><dim>2</dim></port></output></layer>
<layer id="3" name="sum" type="Add" version="opset1">
  <input><port id="0"><dim>2</dim></port><port id="1"><dim>2</dim></port></input>
  <output><port id="2" precision="FP32"><dim>2</dim></port></output></layer>
<layer id="4" name="assign" type="Assign" version="opset3"><data variable_id="acc"/>
  <input><port id="0"><dim>2</dim></port></input></layer>
<layer id="5" name="out" type="Result" version="opset1"><input><port id="0"><dim>2</dim></port></input></layer>
</layers><edges>
<edge from-layer="0" from-port="0" to-layer="3" to-port="0"/><edge from-layer="1" from-port="0" to-layer="2" to-port="0"/>
<edge from-layer="2" from-port="1" to-layer="3" to-port="1"/><edge from-layer="3" from-port="2" to-layer="4" to-port="0"/>
<edge from-layer="3" from-port="2" to-layer="5" to-port="0"/></edges></net>)";
  const float init[2] = {4.0f, -1.0f};
  std::string bin(reinterpret_cast<const char*>(init), sizeof(init));
  std::string bytes = engine::ir::translateIrToOnnx(std::string_view(xml), std::string_view(bin)).onnx_model;
  std::vector<StateVariable> vars;
  ASSERT_TRUE(extractStateVariables(&bytes, &vars).ok());
  ASSERT_EQ(vars.size(), 1u);
  EXPECT_EQ(vars[0].input, "acc_state");
  EXPECT_EQ(vars[0].output, "acc_state_out");
  ASSERT_EQ(vars[0].initial.bytes.size(), sizeof(init));
  EXPECT_EQ(0, std::memcmp(vars[0].initial.bytes.data(), init, sizeof(init)));
}

TEST(SpecialInputs, OvmsOrderOfChecks) {
  InferenceRequest r;
  r.origin = {Api::TensorFlowServing, Interface::GRPC, Method::Predict};
  uint64_t id = 3;
  uint32_t control = 1;
  auto add = [&](const char* name, engine::Precision p, engine::Shape shape, const void* data, size_t bytes, bool typed) {
    InferenceInput in;
    in.name = name;
    in.tensor = engine::TensorView{p, std::move(shape), data, bytes, nullptr};
    in.typed_values = typed;
    in.value_count = typed ? 1 : 0;
    r.inputs.push_back(std::move(in));
  };
  SequenceSpec spec;
  EXPECT_EQ(readSequenceSpec(r, &spec).code(), StatusCode::SEQUENCE_ID_NOT_PROVIDED);
  add("sequence_control_input", engine::Precision::U32, {1}, &control, 4, true);
  ASSERT_TRUE(readSequenceSpec(r, &spec).ok());  // start without id
  EXPECT_EQ(spec.control, 1u);
  add("sequence_id", engine::Precision::U64, {1}, &id, 8, false);  // tensor_content on TF-Serving gRPC
  EXPECT_EQ(readSequenceSpec(r, &spec).code(), StatusCode::SEQUENCE_ID_BAD_TYPE);
  r.origin = {Api::KServe, Interface::GRPC, Method::ModelInfer};  // raw contents are fine on KServe
  ASSERT_TRUE(readSequenceSpec(r, &spec).ok());
  EXPECT_EQ(spec.id, 3u);
  r.inputs.back().tensor.shape = {};
  EXPECT_EQ(readSequenceSpec(r, &spec).code(), StatusCode::SPECIAL_INPUT_NO_TENSOR_SHAPE);
  r.inputs.back().tensor.shape = {1, 1};
  EXPECT_EQ(readSequenceSpec(r, &spec).code(), StatusCode::INVALID_NO_OF_SHAPE_DIMENSIONS);
  r.inputs.back().tensor.shape = {2};
  EXPECT_EQ(readSequenceSpec(r, &spec).code(), StatusCode::INVALID_SHAPE);
  r.inputs.back().tensor.shape = {1};
  control = 3;
  EXPECT_EQ(readSequenceSpec(r, &spec).code(), StatusCode::INVALID_SEQUENCE_CONTROL_INPUT);
}

}  // namespace
}  // namespace ovms::serving
