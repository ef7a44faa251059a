// Model / ModelVersion / ModelManager lifecycle without a server: version policies, load-failure
// fallback, a reload swap while a request holds the old servable, retire, and config.json changes
// that add and remove models. Runs on copies of the demo model in a temporary repository.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <atomic>
#include <fstream>
#include <stdexcept>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <unistd.h>

#include "serving/model.h"
#include "serving/model_manager.h"

namespace fs = std::filesystem;
using namespace ovms;
using namespace ovms::serving;

namespace {

class Repo {
 public:
  Repo() {
    root_ = fs::temp_directory_path() / ("ovms_lifecycle_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~Repo() { fs::remove_all(root_); }
  // <root>/<model>/<version>/model.onnx: the demo model, or garbage.
  std::string addVersion(const std::string& model, int64_t v, bool broken = false) {
    fs::path dir = root_ / model / std::to_string(v);
    fs::create_directories(dir);
    if (broken) {
      std::ofstream(dir / "model.onnx") << "not an onnx model";
    } else {
      fs::copy_file(fs::path(DEMO_MODEL_PATH) / "1" / "model.onnx", dir / "model.onnx",
                    fs::copy_options::overwrite_existing);
    }
    return (root_ / model).string();
  }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

 private:
  static inline int counter_ = 0;
  fs::path root_;
};

ModelConfig config(const std::string& name, const std::string& base) {
  ModelConfig c;
  c.name = name;
  c.base_path = base;
  return c;
}

VersionState stateOf(const Model& m, int64_t v) {
  std::shared_ptr<ModelVersion> mv;
  if (!m.findVersion(v, &mv).ok()) return VersionState::START;
  return mv->state();
}

// One inference on `s` (the demo model): proves a servable is still usable.
bool infers(const Servable& s) {
  float x[4] = {5.1f, 3.5f, 1.4f, 0.2f};
  InferenceRequest r;
  InferenceInput in;
  in.name = "features";
  in.tensor = engine::TensorView{engine::Precision::FP32, {1, 4}, x, sizeof(x), nullptr};
  r.inputs.push_back(std::move(in));
  InferenceResponse resp;
  return s.infer(r, &resp).ok() && resp.outputs.size() == 1;
}

}  // namespace

TEST(ModelLifecycle, PolicyChangesLoadAndRetireVersions) {
  Repo repo;
  repo.addVersion("m", 1);
  std::string base = repo.addVersion("m", 2);
  Model model(config("m", base));
  ModelConfig c = config("m", base);
  ASSERT_TRUE(model.reconcile(c, false).ok());
  EXPECT_EQ(stateOf(model, 2), VersionState::AVAILABLE);  // latest (1) = the highest
  EXPECT_EQ(stateOf(model, 1), VersionState::START);      // never created
  c.policy.kind = VersionPolicy::Kind::ALL;
  ASSERT_TRUE(model.reconcile(c, false).ok());
  EXPECT_EQ(stateOf(model, 1), VersionState::AVAILABLE);
  EXPECT_EQ(stateOf(model, 2), VersionState::AVAILABLE);
  c.policy.kind = VersionPolicy::Kind::SPECIFIC;
  c.policy.versions = {1};
  ASSERT_TRUE(model.reconcile(c, false).ok());
  EXPECT_EQ(stateOf(model, 1), VersionState::AVAILABLE);
  EXPECT_EQ(stateOf(model, 2), VersionState::END);
  std::shared_ptr<ModelVersion> def;
  ASSERT_TRUE(model.findVersion(0, &def).ok());
  EXPECT_EQ(def->version(), 1);
}

TEST(ModelLifecycle, LoadFailureFallsBackToThePreviousVersion) {
  Repo repo;
  repo.addVersion("m", 1);
  std::string base = repo.addVersion("m", 2, /*broken=*/true);
  Model model(config("m", base));
  EXPECT_FALSE(model.reconcile(config("m", base), false).ok());  // the failure is reported
  std::shared_ptr<ModelVersion> v2;
  ASSERT_TRUE(model.findVersion(2, &v2).ok());
  EXPECT_EQ(v2->state(), VersionState::LOADING);
  EXPECT_EQ(v2->error(), VersionError::UNKNOWN);
  EXPECT_EQ(stateOf(model, 1), VersionState::AVAILABLE);  // and the previous version serves
  std::shared_ptr<ModelVersion> def;
  ASSERT_TRUE(model.findVersion(0, &def).ok());
  EXPECT_EQ(def->version(), 1);
}

TEST(ModelLifecycle, ReloadSwapsWhileARequestHoldsTheOldServable) {
  Repo repo;
  std::string base = repo.addVersion("m", 1);
  Model model(config("m", base));
  ASSERT_TRUE(model.reconcile(config("m", base), false).ok());
  std::shared_ptr<ModelVersion> v1;
  ASSERT_TRUE(model.findVersion(1, &v1).ok());
  std::shared_ptr<const Servable> held;  // an in-flight request
  ASSERT_TRUE(v1->acquire(std::chrono::milliseconds(0), &held).ok());
  std::weak_ptr<const Servable> old = held;
  ASSERT_TRUE(model.reconcile(config("m", base), /*force_reload=*/true).ok());
  EXPECT_EQ(v1->state(), VersionState::AVAILABLE);
  std::shared_ptr<const Servable> fresh;
  ASSERT_TRUE(v1->acquire(std::chrono::milliseconds(0), &fresh).ok());
  EXPECT_NE(fresh.get(), held.get());  // new requests get the new servable
  EXPECT_TRUE(infers(*held));          // the old one still answers its request
  held.reset();
  EXPECT_TRUE(old.expired());  // and is freed by the last request using it
}

TEST(ModelLifecycle, FailedReloadKeepsTheServingVersion) {
  Repo repo;
  std::string base = repo.addVersion("m", 1);
  Model model(config("m", base));
  ASSERT_TRUE(model.reconcile(config("m", base), false).ok());
  repo.addVersion("m", 1, /*broken=*/true);
  EXPECT_FALSE(model.reconcile(config("m", base), /*force_reload=*/true).ok());
  std::shared_ptr<ModelVersion> v1;
  ASSERT_TRUE(model.findVersion(1, &v1).ok());
  EXPECT_EQ(v1->state(), VersionState::AVAILABLE);
  std::shared_ptr<const Servable> s;
  ASSERT_TRUE(v1->acquire(std::chrono::milliseconds(0), &s).ok());
  EXPECT_TRUE(infers(*s));
}

TEST(ModelLifecycle, RetireEndsTheVersionAfterItsLastRequest) {
  Repo repo;
  std::string base = repo.addVersion("m", 1);
  Model model(config("m", base));
  ASSERT_TRUE(model.reconcile(config("m", base), false).ok());
  std::shared_ptr<ModelVersion> v1;
  ASSERT_TRUE(model.findVersion(1, &v1).ok());
  std::shared_ptr<const Servable> held;
  ASSERT_TRUE(v1->acquire(std::chrono::milliseconds(0), &held).ok());
  std::weak_ptr<const Servable> weak = held;
  model.retireAll();
  EXPECT_EQ(v1->state(), VersionState::END);
  std::shared_ptr<const Servable> none;
  EXPECT_EQ(v1->acquire(std::chrono::milliseconds(0), &none).code(), StatusCode::MODEL_VERSION_NOT_LOADED_ANYMORE);
  EXPECT_TRUE(infers(*held));
  held.reset();
  EXPECT_TRUE(weak.expired());
}

TEST(ModelManagerLifecycle, ConfigChangesAddAndRemoveModels) {
  Repo repo;
  std::string a = repo.addVersion("a", 1);
  std::string b = repo.addVersion("b", 1);
  std::string c = repo.addVersion("c", 1);
  std::string cfg = repo.path("config.json");
  auto write = [&](const std::vector<std::pair<std::string, std::string>>& models) {
    std::string text = R"({"model_config_list": [)";
    for (size_t i = 0; i < models.size(); ++i)
      text += (i ? "," : "") + std::string(R"({"config": {"name": ")") + models[i].first + R"(", "base_path": ")" +
              models[i].second + R"("}})";
    std::ofstream(cfg) << text << "]}";
  };
  write({{"a", a}, {"b", b}});
  ModelManager manager;
  ASSERT_TRUE(manager.startFromConfigFile(cfg).ok());
  std::shared_ptr<const Servable> s;
  int64_t resolved = 0;
  ASSERT_TRUE(manager.acquire("a", 0, &s, &resolved).ok());
  ASSERT_TRUE(manager.acquire("b", 0, &s, &resolved).ok());
  EXPECT_EQ(manager.acquire("c", 0, &s, &resolved).code(), StatusCode::MODEL_NAME_MISSING);

  write({{"a", a}, {"c", c}});
  EXPECT_EQ(manager.reloadConfigFile().code(), StatusCode::OK_RELOADED);
  ASSERT_TRUE(manager.acquire("c", 0, &s, &resolved).ok());
  ASSERT_TRUE(manager.acquire("a", 0, &s, &resolved).ok());
  // A removed model stays listed (its versions END) but serves nothing.
  std::shared_ptr<Model> removed;
  ASSERT_TRUE(manager.findModel("b", &removed).ok());
  EXPECT_EQ(stateOf(*removed, 1), VersionState::END);
  EXPECT_FALSE(manager.acquire("b", 0, &s, &resolved, false).ok());
  EXPECT_EQ(manager.acquire("a", 5, &s, &resolved, false).code(), StatusCode::MODEL_VERSION_MISSING);
  manager.stop();
}

TEST(InferSlots, RefusesAtOnceWhenTheWaitingBoundIsReached) {
  InferSlots pool;
  pool.setCapacity(1);
  pool.setMaxWaiting(1);
  auto waitFor = [&](uint32_t waiting) {
    for (int i = 0; i < 20000 && pool.waiting() != waiting; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(pool.waiting(), waiting);
  };
  std::optional<InferSlots::Slot> running = pool.tryTake();
  ASSERT_TRUE(running.has_value());
  EXPECT_FALSE(pool.full());  // a free place in the queue
  std::atomic<bool> queued_ran{false}, admitted_ran{false};
  std::thread queued([&] {
    auto s = pool.tryTake();  // waits: one place in the queue
    EXPECT_TRUE(s.has_value());
    queued_ran = true;
  });
  waitFor(1);
  EXPECT_TRUE(pool.full());
  EXPECT_FALSE(pool.tryTake().has_value());  // refused at once, nothing taken
  EXPECT_EQ(pool.waiting(), 1u);
  EXPECT_EQ(pool.inUse(), 1u);
  // take() (a pipeline's node, admitted before) waits past the bound instead of being refused.
  std::thread admitted([&] {
    auto s = pool.take();
    admitted_ran = true;
  });
  waitFor(2);
  running.reset();
  queued.join();
  admitted.join();
  EXPECT_TRUE(queued_ran && admitted_ran);
  EXPECT_EQ(pool.inUse(), 0u);
  EXPECT_EQ(pool.waiting(), 0u);
  pool.setMaxWaiting(0);  // no waiting at all: refused whenever the slot is taken
  auto only = pool.tryTake();
  ASSERT_TRUE(only.has_value());
  EXPECT_FALSE(pool.tryTake().has_value());
  only.reset();
  EXPECT_TRUE(pool.tryTake().has_value());
  pool.setMaxWaiting(InferSlots::kUnbounded);
  EXPECT_FALSE(pool.full());
}

// Slots go to waiting requests in arrival order.
TEST(InferSlots, FirstComeFirstServed) {
  InferSlots pool;
  pool.setCapacity(1);
  auto waitFor = [&](uint32_t waiting) {
    for (int i = 0; i < 20000 && pool.waiting() != waiting; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(pool.waiting(), waiting);
  };
  std::optional<InferSlots::Slot> held(std::in_place, pool.take());
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 5; ++i) {
    waiters.emplace_back([&, i] {
      auto s = pool.take();
      std::lock_guard lock(order_mutex);
      order.push_back(i);
    });
    waitFor(static_cast<uint32_t>(i + 1));  // each one queued before the next arrives
  }
  held.reset();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(pool.inUse(), 0u);
  EXPECT_EQ(pool.waiting(), 0u);
}

// A released slot goes to the request already waiting, even if another arrives before that one wakes.
TEST(InferSlots, ANewcomerDoesNotOvertakeAWaiter) {
  InferSlots pool;
  pool.setCapacity(1);
  std::optional<InferSlots::Slot> held(std::in_place, pool.take());
  std::atomic<bool> let_go{false};
  std::thread waiter([&] {
    auto s = pool.take();
    while (!let_go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  for (int i = 0; i < 20000 && pool.waiting() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(pool.waiting(), 1u);
  pool.setMaxWaiting(0);  // a newcomer that cannot get a slot at once is refused (instead of waiting)
  held.reset();           // handed to the waiter: still in use, nobody waiting
  EXPECT_EQ(pool.inUse(), 1u);
  EXPECT_EQ(pool.waiting(), 0u);
  EXPECT_FALSE(pool.tryTake().has_value()) << "a newcomer took the slot released for the waiter";
  let_go = true;
  waiter.join();
  EXPECT_EQ(pool.inUse(), 0u);
}

TEST(InferSlots, BoundConcurrencyAndReleaseOnEveryExit) {
  InferSlots pool;
  pool.setCapacity(2);
  std::atomic<bool> third_started{false};
  std::thread third;
  {
    auto a = pool.take();
    {
      auto b = pool.take();
      EXPECT_EQ(pool.inUse(), 2u);
      third = std::thread([&] {
        auto c = pool.take();  // blocks until a or b is released
        third_started = true;
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      EXPECT_FALSE(third_started.load());
    }  // b released
    third.join();
    EXPECT_TRUE(third_started.load());
  }
  EXPECT_EQ(pool.inUse(), 0u);
  try {
    auto s = pool.take();
    throw std::runtime_error("engine failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(pool.inUse(), 0u);  // released by the exception's unwinding
}
